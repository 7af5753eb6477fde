"""What the harness tells a small model after a tool result, so it finishes multi-step requests.

Small models (measured on Qwen2.5-Coder-0.5B) repeat the call they just made instead of moving on,
and parrot the request back instead of answering. What works is one instruction at a time: the
request is split into its steps ("create hello.py that prints hi, then run it" → two steps), each
successful tool call completes one, the nudge names the next step, and once every step has had its
call the model gets an answer-only step with the results listed. Nudges go with a single step
only; they are never stored in history.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.agent.messages import Message

_KEY_ARG = ("command", "path", "url", "query", "pattern")
REPLAYED = "(identical call earlier in this turn; same result)"

# Where a request splits into steps: "…, then …", "…; …", ". Then …", and "… and <tool verb> …"
# (not "and tell me …": telling is the answer, not a step).
# Verbs like "list", "show", "find" or "check" are left out: "read x and list the names" asks
# for an answer, not a second tool call.
_TOOL_VERBS = (r"run|execute|test|read|open|delete|remove|commit|create|write|add|make|save|"
               r"edit|fix|install|fetch|download|grep|cat|ls")
_SPLIT = re.compile(
    r"\s*(?:,\s*(?:and\s+)?then|\band\s+then|;(?:\s*then)?|"
    r"\.\s+(?:then|after that|next|finally),?)\s+"
    rf"|\s*,?\s+and\s+(?=(?:{_TOOL_VERBS})\b)", re.IGNORECASE)


def plan_steps(request: str) -> list[str]:
    """The request's steps in order (one step when it does not split)."""
    parts = [p.strip(" .,;") for p in _SPLIT.split(request.strip())]
    return [p for p in parts if p] or [request.strip()]


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _calls_with_results(turn: Sequence[Message]) -> list[tuple[str, str, Message]]:
    results = {m.tool_call_id: m for m in turn if m.role == "tool"}
    out: list[tuple[str, str, Message]] = []
    for m in turn:
        for call in m.tool_calls if m.role == "assistant" else ():
            res = results.get(call.id)
            if res is not None:
                key = next((str(call.arguments[k]) for k in _KEY_ARG if call.arguments.get(k)), "")
                out.append((call.name, key, res))
    return out


def _error_line(text: str) -> str:
    """The line that says what went wrong (Python puts the exception last)."""
    lines = [ln.strip() for ln in text.splitlines()
             if ln.strip() and not ln.startswith("[exit code")]
    return lines[-1] if lines else text


def steps_done(turn: Sequence[Message]) -> int:
    """Steps completed so far: each successful call completes one, each failure reopens the last
    one ("create hello.py, then run it": a run that fails means the file needs fixing)."""
    n = 0
    for _, _, res in _calls_with_results(turn):
        if res.content.startswith(REPLAYED):
            continue
        n = max(0, n - 1) if res.is_error else n + 1
    return n


def progress_lines(turn: Sequence[Message]) -> list[str]:
    """"- exec python hello.py: output "hi"" for each call of this turn that has a result."""
    lines: list[str] = []
    for name, key, res in _calls_with_results(turn):
        if res.content.startswith(REPLAYED):
            continue
        what = f"{name} {_short(key, 60)}".strip()
        if res.is_error:
            outcome = f"failed: {_short(_error_line(res.content))}"
        elif name == "exec":
            outcome = f'output "{_short(res.content)}"'
        elif name in _ACTIONS:
            outcome = _short(res.content.splitlines()[0] if res.content else "done")
        else:  # a first line of a listing or a file misleads; the whole result is right above
            outcome = "see the result above"
        lines.append(f"- {what}: {outcome}")
    return lines[-6:]


def all_steps_done(turn: Sequence[Message], request: str) -> bool:
    return steps_done(turn) >= len(plan_steps(request))


def after_tool(turn: Sequence[Message], request: str, *, failed: bool) -> str:
    """The nudge after a tool result while steps remain (or the last call failed)."""
    done = progress_lines(turn)
    head = "Done so far:\n" + "\n".join(done) + "\n" if done else ""
    steps = plan_steps(request)
    n = steps_done(turn)
    if failed and len(steps) > 1:
        return (f'{head}The last tool call failed. Next step of my request "{request}": '
                f'"{steps[min(n, len(steps) - 1)]}". Fix what went wrong (the call, or a file it '
                "used) and call the tool for it now.")
    if failed:
        return (f'{head}The last tool call failed. My request: "{request}". If it needs no '
                "tool, answer it directly. Otherwise fix what went wrong and try again.")
    if n < len(steps):
        return (f'{head}Next step of my request "{request}": "{steps[n]}". Call the tool for it '
                "now.")
    return (f'{head}My request: "{request}". If a part of it is not done yet, call the tool for '
            "it now. If everything is done, answer me in plain text using the results above.")


_ACTIONS = {"write_file": "created {key}", "edit_file": "edited {key}", "exec": "ran `{key}`"}


def answer_shape(turn: Sequence[Message]) -> str:
    """An answer shape built from what this turn did ("I created hello.py and ran
    `python hello.py`; it printed "hi"."): small models follow a shape far better than they
    compose a report. Empty when the turn only read things (the answer is about the content)."""
    parts: list[str] = []
    printed = ""
    for name, key, res in _calls_with_results(turn):
        if res.is_error or res.content.startswith(REPLAYED) or name not in _ACTIONS:
            continue
        action = "updated {key}" if res.content.startswith("Overwrote") else _ACTIONS[name]
        part = action.format(key=_short(key, 60))
        if part not in parts:
            parts.append(part)
        if name == "exec" and res.content.strip() not in ("", "(no output)"):
            out = " ".join(res.content.split())
            # A short output goes in verbatim, its lines joined (left as "..." the 0.5B model
            # copies the dots); a longer one is for the model to summarise.
            printed = out if len(out) <= 80 else "..."
    if not parts or (printed == "..." and all(p.startswith("ran ") for p in parts)):
        # Only runs, with output longer than a line: the answer is about what it printed (a
        # shape ending in "..." gets copied verbatim), as after a read.
        return ""
    text = "I " + " and ".join(parts)
    return text + (f'; it printed "{printed}".' if printed and printed != "..." else ".")


def answer_now(turn: Sequence[Message], request: str) -> str:
    """The nudge for an answer-only step: no tools, just the answer from the results."""
    shape = answer_shape(turn)
    if shape:
        done = progress_lines(turn)
        head = "Done so far:\n" + "\n".join(done) + "\n" if done else ""
        return f"{head}Now answer me in plain text, like: {shape}"
    # Only reading (or a run whose output is the point) happened: the answer is about the
    # content right above, and a progress list here gets copied instead (bench/toolcalls.py).
    # The request goes first and the instruction last: ending on the request in quotes, the
    # 0.5B model copied it back as its answer (6 of 71 agent tasks in one run).
    return (f"My request: {request}\nAnswer it now from the tool results above, in one plain "
            "sentence that states the answer itself.")
