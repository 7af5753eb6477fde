"""The delegate loop: fresh single-turn calls, the scratch memory as the only state, depth <= 2.

A growing chat transcript saturated the predecessor's delegate window, so nothing here grows: each
round's prompt is rebuilt from the question, the variables (size and preview only), a one-line log
of the steps so far, the last two results (each capped by its tool) and the scratch memory (capped
in keys and characters). Round 0 is deterministic: the harness greps the variables for the
question's rarest words, so a small model starts with evidence instead of a blank page.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event
from app.core.agent.messages import Message
from app.core.context.tokens import CAUTIOUS_CHARS_PER_TOKEN, TokenEstimator
from app.core.providers.base import (
    Provider,
    ProviderRequest,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.rlm.budget import Controller, RlmBudget
from app.core.rlm.events import DelegateFinished, DelegateStarted, DelegateStep
from app.core.rlm.probe import answer_problem, evidence_lines, probe, ranked_lines
from app.core.rlm.variables import (
    ARG_SCHEMAS,
    PURE_TOOLS,
    TOOL_HELP,
    ToolFailure,
    Workspace,
)

MAX_DEPTH = 2          # the root delegate is depth 1, a ctx_summarize helper depth 2
SUB_ROUNDS = 3         # rounds of a ctx_summarize helper
ROOT_TOOLS = ("ctx_grep", "ctx_slice", "ctx_length", "ctx_summarize", "mem_store", "mem_recall",
              "answer")
SUB_TOOLS = ("ctx_grep", "ctx_slice", "ctx_length", "answer")
KEEP_RESULTS = 2

SYSTEM = (
    "You read a large text for another assistant, which cannot see it. You see only the sizes "
    "and previews of the variables that hold it, and work on them with tools, one call per "
    "reply. Cheapest first: ctx_grep to find lines, ctx_slice to read around them. Never repeat "
    "a call. When the results answer the question, call answer: lead with the finding and copy "
    "numbers, paths, names and error messages exactly as written. If the text does not contain "
    "the answer, answer that it is not in the output.")

_ids = itertools.count(1)


@dataclass
class Finding:
    text: str
    evidence: list[str] = field(default_factory=list)
    rounds: int = 0
    seconds: float = 0.0
    stop_reason: str = ""
    confidence: float = 0.0
    max_depth: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str = ""
    rejected: str = ""  # why the delegate's own answer was not passed on

    def report(self, limit: int = 8000) -> str:
        """The finding plus its verbatim evidence, for the main model."""
        out = self.text.strip()
        # A line the finding already quotes whole is not repeated under it.
        shown = [e for e in self.evidence if e.split(": ", 1)[-1] not in out]
        if shown:
            # Without an answer the lines stand alone: a note that the reader's answer was left
            # out was itself given back as the answer by the 0.5B main model.
            out += ("\n" if out else "") + "Lines of the output that match the request " \
                "(number: text):\n" + "\n".join(f"  {e}" for e in shown)
        out = out or "(the reader found nothing)"
        return out if len(out) <= limit else out[:limit].rsplit("\n", 1)[0]

    def usable(self) -> bool:
        """Whether the main model gets anything from it (else the gate's briefing goes in)."""
        return not self.error and bool(self.text.strip() or self.evidence)


@dataclass
class _Action:
    name: str
    args: dict[str, Any]
    confidence: float
    raw: str = ""


def action_schema(tools: tuple[str, ...]) -> dict[str, Any]:
    variants = []
    for name in tools:
        props = ARG_SCHEMAS[name]
        variants.append({
            "type": "object",
            "properties": {"name": {"const": name},
                           "arguments": {"type": "object", "properties": props,
                                         "required": list(props), "additionalProperties": False},
                           "confidence": {"type": "number"}},
            "required": ["name", "arguments", "confidence"], "additionalProperties": False})
    return variants[0] if len(variants) == 1 else {"oneOf": variants}


_grammars: dict[tuple[str, ...], str] = {}


def action_grammar(tools: tuple[str, ...]) -> str:
    if tools not in _grammars:
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        _grammars[tools] = str(json_schema_to_gbnf(json.dumps(action_schema(tools))))
    return _grammars[tools]


def parse_action(text: str, tools: tuple[str, ...]) -> _Action:
    """One action from a reply; prose that is not a call is taken as an answer."""
    body = text.strip()
    start, end = body.find("{"), body.rfind("}")
    if start >= 0 and end > start:
        try:
            data = json.loads(body[start:end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            raw_args = data.get("arguments")
            args: dict[str, Any] = dict(raw_args) if isinstance(raw_args, dict) else {}
            return _Action(data["name"], args, _confidence(data.get("confidence")), body)
    return _Action("answer", {"text": body}, 0.5, body)


def _confidence(value: Any) -> float:
    try:
        c = float(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, min(1.0, c / 100 if c > 1 else c))


def _short(args: dict[str, Any]) -> str:
    parts = []
    for k, v in args.items():
        s = json.dumps(v, ensure_ascii=False) if not isinstance(v, int) else str(v)
        parts.append(s if k in ("var", "key") else f"{k}={s}")
    text = ", ".join(parts)
    return text if len(text) <= 80 else text[:79] + "…"


class Delegate:
    """Runs the rounds; ``emit`` receives the delegate's events (the session's emit in the app)."""

    def __init__(self, provider: Provider, *, emit: Callable[[Event], None] | None = None,
                 budget_scale: float = 1.0, max_rounds: int = 8, interactive: bool = False,
                 clock: Callable[[], float] = time.monotonic, temperature: float = 0.0) -> None:
        self.provider = provider
        self.emit = emit or (lambda ev: None)
        self.budget_scale = budget_scale
        self.max_rounds = max_rounds
        self.interactive = interactive
        self.clock = clock
        self.temperature = temperature
        self.deepest = 0  # the deepest level any run of this delegate reached
        # Its model's tokens per character, from the counts its replies report.
        self.tokens = TokenEstimator(CAUTIOUS_CHARS_PER_TOKEN)

    async def run(self, question: str, ws: Workspace, *, cancel: CancelToken | None = None,
                  call_id: str = "", turn_id: str = "", label: str = "", depth: int = 1,
                  budget: RlmBudget | None = None, tools: tuple[str, ...] = ROOT_TOOLS,
                  do_probe: bool = True, focus: str = "") -> Finding:
        """``focus`` is what the probe greps for and ranks lines by: the user's request, not the
        instructions wrapped around it ("find what in it answers …" would match any log)."""
        if depth > MAX_DEPTH:  # never reached through the tools; a guard for direct callers
            return Finding("", error=f"max depth {MAX_DEPTH} reached", max_depth=depth)
        cancel = cancel or CancelToken()
        self.deepest = max(self.deepest, depth)
        did = f"d{next(_ids)}"
        chars = sum(v.length() for v in ws.variables.values())
        budget = budget or RlmBudget.for_request(question, chars, interactive=self.interactive,
                                                 scale=self.budget_scale,
                                                 max_rounds=self.max_rounds)
        ctl = Controller(budget, clock=self.clock)
        self.emit(DelegateStarted(turn_id, delegate_id=did, call_id=call_id,
                                  label=label or "Reading", question=question[:300],
                                  variables=", ".join(f"{n}: {v.length():,} chars"
                                                      for n, v in ws.variables.items()),
                                  model=self.provider.model, depth=depth))
        state = _State(question, ws, tools, depth)
        if do_probe:
            text = probe(ws, focus or question)
            if text:
                state.observe("probe", text)
                self.emit(DelegateStep(turn_id, delegate_id=did, round=0, depth=depth,
                                       action="probe: " + text.splitlines()[0][:120]))
        finding = Finding("", max_depth=depth)
        try:
            await self._rounds(state, ctl, finding, cancel, turn_id, did)
        except Exception as exc:  # a failed delegate must never fail the tool call
            finding.error = f"{type(exc).__name__}: {exc}"
        finding.rounds, finding.seconds = ctl.rounds, ctl.elapsed()
        finding.stop_reason = finding.stop_reason or ctl.stop_reason
        if finding.text and not finding.error:
            finding.rejected = answer_problem(finding.text, state.seen_lines, question)
            if finding.rejected:
                finding.text = ""
        ranked = ranked_lines(ws, focus or question) if do_probe else []
        finding.evidence = evidence_lines(finding.text, state.seen_lines, ranked=ranked)
        self.emit(DelegateFinished(turn_id, delegate_id=did, call_id=call_id,
                                   finding=finding.text[:2000], rounds=finding.rounds,
                                   seconds=finding.seconds, stop_reason=finding.stop_reason,
                                   confidence=finding.confidence, error=finding.error))
        return finding

    async def _rounds(self, st: _State, ctl: Controller, finding: Finding, cancel: CancelToken,
                      turn_id: str, did: str) -> None:
        draft, draft_conf = "", -1.0  # the most confident answer so far
        while not cancel.cancelled and not ctl.should_stop():
            t0 = self.clock()
            action = await self._call(st, st.tools, ctl.max_tokens(), finding, cancel)
            if action is None:
                ctl.stop_reason = "the next round does not fit the delegate's window"
                break
            key = action.name + json.dumps(action.args, sort_keys=True)
            new_info = key not in ctl.seen
            ctl.seen.add(key)
            if action.name == "answer":
                text = str(action.args.get("text", "")).strip()
                if text and action.confidence > draft_conf:
                    draft, draft_conf = text, action.confidence
                    st.ws.store("draft_answer", draft)
                summary = f"answer (confidence {action.confidence:.2f}): {text[:100]}"
            else:
                result = await self._tool(st, action, cancel, turn_id)
                st.observe(f"{action.name}({_short(action.args)})", result)
                summary = f"{action.name}({_short(action.args)}) -> {result.splitlines()[0][:90]}"
                new_info = new_info and not result.startswith("Error")
            ctl.record(self.clock() - t0, confidence=max(action.confidence, draft_conf),
                       new_info=new_info)
            st.log.append(summary)
            self.emit(DelegateStep(turn_id, delegate_id=did, round=ctl.rounds, depth=st.depth,
                                   action=summary, seconds=self.clock() - t0,
                                   confidence=action.confidence))
        finding.text, finding.confidence = draft, max(draft_conf, 0.0)
        if cancel.cancelled:
            finding.stop_reason = "cancelled"
            return
        if draft and ctl.last_confidence >= ctl.budget.confidence:
            return
        # Stopped without a confident answer: one last call that may only answer.
        final = await self._call(st, ("answer",), 512, finding, cancel, final=True)
        text = str(final.args.get("text", "")).strip() if final is not None else ""
        if final is not None and final.name == "answer" and text and (
                final.confidence >= draft_conf or not draft):
            finding.text, finding.confidence = text, final.confidence

    async def _call(self, st: _State, tools: tuple[str, ...], max_tokens: int, finding: Finding,
                    cancel: CancelToken, *, final: bool = False) -> _Action | None:
        prompt = st.prompt(tools, final=final)
        window = self.provider.capabilities.context_window
        while self.tokens.for_chars(len(SYSTEM) + len(prompt)) + max_tokens > window * 0.9:
            if not st.shrink():
                return None
            prompt = st.prompt(tools, final=final)
        extra: dict[str, Any] = {}
        if self.provider.capabilities.grammar_tool_calls:
            extra["grammar"] = action_grammar(tools)
        request = ProviderRequest(
            messages=(Message(role="system", content=SYSTEM), Message(role="user", content=prompt)),
            max_tokens=max_tokens, temperature=self.temperature if st.depth == 1 else 0.3,
            extra=extra)
        text: list[str] = []
        calls = []
        async for chunk in self.provider.stream(request, cancel):
            if isinstance(chunk, TextChunk):
                text.append(chunk.text)
            elif isinstance(chunk, ToolCallChunk):
                calls.append(chunk.call)
            elif isinstance(chunk, UsageChunk):
                self.tokens.calibrate(len(SYSTEM) + len(prompt), chunk.prompt_tokens)
                finding.prompt_tokens += chunk.prompt_tokens
                finding.completion_tokens += chunk.completion_tokens
        if calls:
            args = dict(calls[0].arguments)
            conf = _confidence(args.pop("confidence", 0.0))
            return _Action(calls[0].name, args, conf)
        return parse_action("".join(text), tools)

    async def _tool(self, st: _State, action: _Action, cancel: CancelToken, turn_id: str) -> str:
        if action.name not in st.tools:
            if action.name == "ctx_summarize":  # offered only above the depth cap
                return (f"Error: ctx_summarize is not available at depth {st.depth} (max depth "
                        f"{MAX_DEPTH}); use ctx_grep or ctx_slice.")
            return f"Error: unknown tool {action.name!r}; tools: {', '.join(st.tools)}"
        if action.name == "ctx_summarize":
            return await self._summarize(st, action.args, cancel, turn_id)
        try:
            return PURE_TOOLS[action.name](st.ws, action.args)
        except ToolFailure as exc:
            return f"Error: {exc}"

    async def _summarize(self, st: _State, args: dict[str, Any], cancel: CancelToken,
                         turn_id: str) -> str:
        if st.depth >= MAX_DEPTH:
            return (f"Error: max depth {MAX_DEPTH} reached; use ctx_slice or ctx_grep instead.")
        name = str(args.get("var") or "")
        if name not in st.ws.variables:
            return f"Error: no variable {name!r}; variables: {', '.join(st.ws.variables)}"
        instruction = str(args.get("instruction") or st.question)
        sub = await self.run(instruction, st.ws.copy_of(name), cancel=cancel, turn_id=turn_id,
                             label=f"Summarizing {name}", depth=st.depth + 1,
                             budget=RlmBudget(self._sub_seconds(), 1, SUB_ROUNDS),
                             tools=SUB_TOOLS, do_probe=True)
        new = st.ws.new_summary_name()
        st.ws.add(new, sub.text or "(nothing found)")
        return f"Stored as variable '{new}': {sub.text[:600]}"

    def _sub_seconds(self) -> float:
        return 8.0 * self.budget_scale


class _State:
    """What one round's prompt is built from."""

    def __init__(self, question: str, ws: Workspace, tools: tuple[str, ...], depth: int) -> None:
        self.question, self.ws, self.tools, self.depth = question, ws, tools, depth
        self.log: list[str] = []
        self.results: list[tuple[str, str]] = []
        self.seen_lines: list[str] = []

    def observe(self, what: str, text: str) -> None:
        self.results.append((what, text))
        self.results = self.results[-KEEP_RESULTS:]
        for line in text.splitlines()[1:]:
            if line.strip() and line not in self.seen_lines:
                self.seen_lines.append(line)

    def shrink(self) -> bool:
        """Drop the oldest kept result, then memory notes: False when nothing is left to drop."""
        if self.results:
            self.results.pop(0)
            return True
        if self.ws.memory:
            self.ws.memory.pop(next(iter(self.ws.memory)))
            return True
        return False

    def prompt(self, tools: tuple[str, ...], *, final: bool = False) -> str:
        parts = [f"Question: {self.question}", "", "Variables:", self.ws.describe(), ""]
        parts += ["Tools:"] + [f"- {TOOL_HELP[t]}" for t in tools] + [""]
        if self.log:
            parts += ["Steps so far:"] + [f"{i}. {s}" for i, s in enumerate(self.log, 1)] + [""]
        for what, text in self.results:
            parts += [f"Result of {what}:", text, ""]
        parts += ["Memory:", self.ws.memory_text(), ""]
        if final:
            parts.append("Time is up: call answer now with what the results show.")
        parts.append('Reply with one JSON object: {"name": TOOL, "arguments": {...}, '
                     '"confidence": C}, where C says how sure you are that the results so far '
                     "answer the question (0.3 a guess, 0.7 likely, 0.9 the evidence is in the "
                     "results, 1.0 quoted exactly).")
        return "\n".join(parts)
