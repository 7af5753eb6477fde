"""Where the delegate meets the Context Gate: one function decides and reads.

:meth:`ToolOutputReader.read` is called for every tool result before it enters the main model's
context. Small results skip it (the gate admits them raw). A result larger than the gate admits,
or the output of a tool that needs interpreting (``exec``, ``web_fetch``, ``web_search``) past a
couple of thousand characters, is cached whole under an ``@outN`` handle and read by the delegate
for the user's request; the main model gets the finding, its verbatim evidence and the handle for
drill-down, never the raw output. When the delegate fails or finds nothing, the gate's briefing
is used as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event
from app.core.agent.messages import ToolCall
from app.core.context.context_gate import MIN_RAW_TOKENS
from app.core.context.tokens import TokenEstimator
from app.core.policy.redact import redact
from app.core.providers.base import Provider
from app.core.rlm.budget import RlmBudget
from app.core.rlm.delegate import Delegate, Finding
from app.core.rlm.events import DelegateStep
from app.core.rlm.variables import Workspace
from app.core.settings.config import RlmConfig
from app.core.tools.base import ToolResult

if TYPE_CHECKING:
    from app.core.agent.session import Session


def needs_reader(tool: str, content: str, room_tokens: int, config: RlmConfig,
                 tokens: TokenEstimator | None = None) -> bool:
    """Whether a result goes to the delegate: too large for the gate, or interpretive and long
    (sizes by the session's estimator ``tokens``)."""
    if not config.enabled:
        return False
    too_large = (tokens or TokenEstimator()).tokens(content) > max(MIN_RAW_TOKENS, room_tokens)
    interpretive = tool in config.interpret_tools and len(content) >= config.interpret_min_chars
    return too_large or interpretive


def delegate_question(request: str, tool: str, args: dict[str, object]) -> str:
    what = " ".join(f"{k}={v}" for k, v in args.items() if isinstance(v, str | int))[:200]
    return (f"{request}\n(The text is the output of the tool {tool}{' ' + what if what else ''}: "
            "find what in it answers or bears on this request.)")


class ToolOutputReader:
    """Plugged into :attr:`Session.reader`; ``provider`` gives the ``rlm`` slot's model."""

    def __init__(self, provider: Callable[[], Provider], config: RlmConfig | None = None) -> None:
        self._provider = provider
        self.config = config or RlmConfig()

    async def read(self, session: Session, call: ToolCall, result: ToolResult, *,
                   room_tokens: int, turn_id: str, cancel: CancelToken) -> ToolResult | None:
        content = result.content
        if not needs_reader(call.name, content, room_tokens, self.config, session.tokens):
            return None
        content = redact(content)
        handle, path = session.gate.save(content)
        finding = await self._run(session, call, content, turn_id, cancel)
        if finding is None or not finding.usable() or cancel.cancelled:
            return None  # the gate's briefing instead
        lines = content.count("\n") + 1
        head = (f"[{call.name} output: {len(content):,} chars, {lines:,} lines, saved as {handle} "
                f'(read any part with read_file path "{handle}" and lines "a:b"). A reader went '
                f"through it for your request in {finding.rounds} round(s), "
                f"{finding.seconds:.1f}s; its finding:]")
        limit = session.tokens.chars(max(MIN_RAW_TOKENS, room_tokens)) - len(head) - 1
        return ToolResult(f"{head}\n{finding.report(max(400, limit))}", False,
                          {**result.meta, "gate_handle": handle, "gate_path": str(path),
                           "reader_rounds": finding.rounds})

    async def _run(self, session: Session, call: ToolCall, content: str, turn_id: str,
                   cancel: CancelToken) -> Finding | None:
        provider = self._provider()
        swarm = session.swarm
        label = f"reading {call.name} output ({len(content):,} chars)"
        rid = swarm.reader_started(label, session.last_request(), provider.model, cancel,
                                   self.config.max_rounds) if swarm is not None else ""

        def emit(ev: Event) -> None:
            session.emit(ev)
            if swarm is not None and isinstance(ev, DelegateStep) and ev.depth == 1:
                swarm.reader_step(rid, ev.action, ev.round)

        delegate = Delegate(provider, emit=emit, budget_scale=self.config.budget_scale,
                            max_rounds=self.config.max_rounds)
        ws = Workspace()
        ws.add("output_0", content)
        question = delegate_question(session.last_request(), call.name, call.arguments)
        finding: Finding | None = None
        try:
            # The request class comes from the user's words, not the instructions around them.
            budget = RlmBudget.for_request(session.last_request(), len(content),
                                           scale=self.config.budget_scale,
                                           max_rounds=self.config.max_rounds)
            finding = await delegate.run(question, ws, cancel=cancel, call_id=call.id,
                                         turn_id=turn_id, label=label, budget=budget,
                                         focus=session.last_request())
        finally:
            if swarm is not None:
                state = "cancelled" if cancel.cancelled else (
                    "failed" if finding is None or finding.error else "done")
                swarm.reader_finished(rid, state=state,
                                      result=finding.text if finding else "",
                                      reason=finding.stop_reason if finding else "")
        return finding


def make_reader(provider: Callable[[], Provider],
                config: RlmConfig | None = None) -> ToolOutputReader | None:
    """A session's reader (none when the config turns it off), for its constructor."""
    cfg = config or RlmConfig()
    if not cfg.enabled:
        return None
    return ToolOutputReader(provider, cfg)

