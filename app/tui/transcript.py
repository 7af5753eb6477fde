"""Rebuild the conversation view from a session's events (resume), as plain block records.

The live view streams the same events through :class:`app.tui.conversation_view.ConversationView`;
this is its batch twin, so resuming a long session mounts only the newest blocks.
"""

from __future__ import annotations

from app.core.agent.events import (
    ErrorReported,
    Event,
    Injected,
    Notice,
    ReasoningDelta,
    ReplyRestarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from app.core.rlm.events import DelegateFinished, DelegateStarted, DelegateStep
from widgets.block_spec import BlockSpec
from widgets.markdown_split import split_markdown
from widgets.reply_stream import SEGMENT_CHARS

CANCELLED_TEXT = "cancelled — the partial reply is kept"


def tool_status(content: str, is_error: bool) -> str:
    if is_error and content.strip().startswith("[cancelled"):
        return "cancelled"
    return "error" if is_error else "ok"


def delegate_summary(ev: DelegateFinished) -> str:
    """How a reader ended, in a few words: "3 rounds, 4.2s, confident (0.90)"."""
    end = f"failed: {ev.error}" if ev.error else (ev.stop_reason or "answered")
    return f"{ev.rounds} round{'s' if ev.rounds != 1 else ''}, {ev.seconds:.1f}s, {end}"


def specs_from_events(events: list[Event]) -> list[BlockSpec]:
    specs: list[BlockSpec] = []
    reply: list[str] = []
    thinking: list[str] = []
    tools: dict[str, int] = {}
    reader: tuple[int, str] | None = None  # (spec index, delegate id) of the reader at work
    open_turn = False

    def flush(cancelled: bool = False) -> None:
        if thinking:
            specs.append(BlockSpec("thinking", "".join(thinking)))
            thinking.clear()
        if reply:
            parts = split_markdown("".join(reply), SEGMENT_CHARS)
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                specs.append(BlockSpec("assistant", part, cancelled=cancelled and last))
            reply.clear()

    for ev in events:
        if isinstance(ev, TurnStarted):
            flush()
            specs.append(BlockSpec("user", ev.text))
            open_turn = True
        elif isinstance(ev, ReasoningDelta):
            if reply:
                flush()
            thinking.append(ev.text)
        elif isinstance(ev, TextDelta):
            if thinking:
                specs.append(BlockSpec("thinking", "".join(thinking)))
                thinking.clear()
            reply.append(ev.text)
        elif isinstance(ev, ToolCallStarted):
            flush()
            tools[ev.call_id] = len(specs)
            specs.append(BlockSpec("tool", name=ev.name, label=ev.label, arguments=ev.arguments,
                                   status="running"))
        elif isinstance(ev, ToolCallFinished):
            idx = tools.pop(ev.call_id, None)
            spec = BlockSpec("tool", ev.content, name=ev.name, status=tool_status(
                ev.content, ev.is_error), duration=ev.duration,
                arguments=specs[idx].arguments if idx is not None else {},
                label=specs[idx].label if idx is not None else "")
            if idx is None:
                specs.append(spec)
            else:
                specs[idx] = spec
        elif isinstance(ev, DelegateStarted | DelegateStep | DelegateFinished):
            if isinstance(ev, DelegateStarted) and ev.depth == 1:
                flush()
                reader = (len(specs), ev.delegate_id)
                specs.append(BlockSpec("delegate", label=ev.label, status="running"))
            elif reader is not None:
                idx, did = reader
                spec = specs[idx]
                done = isinstance(ev, DelegateFinished) and ev.delegate_id == did
                line = ("  " * (ev.depth - 1) + ev.action if isinstance(ev, DelegateStep)
                        else f"→ {ev.finding[:300]}" if isinstance(ev, DelegateFinished)
                        else f"{ev.label}: {ev.question[:80]}")
                text = f"{spec.text}\n{line}" if spec.text else line
                status = delegate_summary(ev) if done and isinstance(ev, DelegateFinished) \
                    else spec.status
                specs[idx] = BlockSpec("delegate", text, label=spec.label, status=status)
                reader = None if done else reader
        elif isinstance(ev, Injected):
            flush()
            specs.append(BlockSpec("steer", ev.text))
        elif isinstance(ev, ReplyRestarted):  # the partial reply was abandoned, as shown live
            flush(cancelled=True)
        elif isinstance(ev, Notice):
            flush()
            specs.append(BlockSpec("notice", ev.text, level=ev.level))
        elif isinstance(ev, ErrorReported):
            flush()
            specs.append(BlockSpec("notice", ev.message, level="warning"))
        elif isinstance(ev, TurnFinished):
            flush()
            open_turn = False
        elif isinstance(ev, TurnCancelled):
            flush(cancelled=True)
            specs.append(BlockSpec("notice", CANCELLED_TEXT, level="cancelled"))
            open_turn = False
        elif isinstance(ev, TurnFailed):
            flush()
            specs.append(BlockSpec("notice", f"error: {ev.error}", level="error"))
            open_turn = False
    if open_turn:
        flush(cancelled=True)
        specs.append(BlockSpec("notice", "the session ended here, mid-turn (the app was closed "
                                         "or crashed); the partial reply is kept",
                               level="warning"))
    else:
        flush()
    return specs
