"""The one fold from core events to conversation blocks, for the live view and for resume alike.

:class:`TranscriptFold` takes events one at a time and appends or changes
:class:`~widgets.blocks.Block` records through a sink: the conversation widget while the app runs,
a plain list when a saved session is read back (:func:`blocks_from_events`). Both paths run this
same code, so a resumed session looks exactly like the live one did.

Rules worth knowing:
- Events of a turn that is already closed are dropped (a late chunk must not reopen a reply).
- A notice never ends or splits a streaming reply: it goes after the reply's block, and the reply
  keeps growing above it ("one two three, counting slowly" stays one text).
- A reply stopped early is marked: ``cancelled`` (Esc Esc), ``steered`` (stopped to take a steer),
  ``interrupted`` (a fallback provider starts it again).
"""

from __future__ import annotations

from typing import Any, Protocol

from app.core.agent.events import (
    ErrorReported,
    Event,
    Injected,
    Notice,
    ReasoningDelta,
    ReplyRestarted,
    ReplySteered,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from app.core.rlm.events import DelegateFinished, DelegateStarted, DelegateStep
from app.core.swarm.events import BranchFinished
from widgets.blocks import Block, Ended

CANCELLED_TEXT = "cancelled — the partial reply is kept"
CUT_OFF_TEXT = ("the session ended here, mid-turn (the app was closed or crashed); the partial "
                "reply is kept")


class BlockSink(Protocol):
    def append(self, block: Block) -> Block: ...

    def changed(self, block: Block) -> None: ...


class ListSink:
    """Collects blocks (resume): changes need no drawing."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []

    def append(self, block: Block) -> Block:
        self.blocks.append(block)
        return block

    def changed(self, block: Block) -> None:
        block.touch()


def tool_status(content: str, is_error: bool) -> str:
    if is_error and content.strip().startswith("[cancelled"):
        return "cancelled"
    return "error" if is_error else "ok"


def delegate_summary(ev: DelegateFinished) -> str:
    """How a reader ended, in a few words: "3 rounds, 4.2s, confident (0.90)"."""
    end = f"failed: {ev.error}" if ev.error else (ev.stop_reason or "answered")
    return f"{ev.rounds} round{'s' if ev.rounds != 1 else ''}, {ev.seconds:.1f}s, {end}"


def tool_badge(event: Any) -> str:
    """A vote / grounding verdict, when the core reports one on the tool call: a read the
    harness made for the request before the model's first step ("read for your request"), the
    tally of the vote that chose the call ("vote 3/3")."""
    parts = []
    if getattr(event, "grounded", False):
        run = getattr(event, "name", "") == "exec"
        parts.append("run for your request" if run else "read for your request")
    votes = getattr(event, "votes", "")
    if votes:
        parts.append(f"vote {votes}")
    for name in ("vote", "grounding"):
        value = getattr(event, name, None)
        if value:
            parts.append(str(value))
    return " · ".join(parts)


class TranscriptFold:
    def __init__(self, sink: BlockSink) -> None:
        self.sink = sink
        self.reply: Block | None = None
        self.thinking: Block | None = None
        self.tools: dict[str, Block] = {}
        self.closed: set[str] = set()
        self.open_turn: str | None = None
        self.reader: Block | None = None  # the reader (RLM delegate) at work, and its id
        self.reader_id = ""

    def reset(self, sink: BlockSink | None = None) -> None:
        self.__init__(sink or self.sink)  # type: ignore[misc]

    # --- helpers -------------------------------------------------------------------------------

    def _add(self, block: Block) -> Block:
        return self.sink.append(block)

    def notice(self, text: str, level: str = "info") -> Block:
        """A note between blocks; it never ends the reply being streamed."""
        return self._add(Block("notice", text, level=level))

    def _end_thinking(self) -> None:
        if self.thinking is not None:
            self.thinking.streaming = False
            self.sink.changed(self.thinking)
            self.thinking = None

    def end_reply(self, ended: Ended = "") -> None:
        self._end_thinking()
        reply, self.reply = self.reply, None
        if reply is not None:
            reply.streaming = False
            reply.ended = ended
            self.sink.changed(reply)

    # --- the fold ------------------------------------------------------------------------------

    def apply(self, ev: Event) -> None:
        if ev.turn_id and ev.turn_id in self.closed:
            return
        if isinstance(ev, TextDelta):
            self._end_thinking()
            if self.reply is None:
                self.reply = self._add(Block("assistant", streaming=True))
            self.reply.text += ev.text
            self.sink.changed(self.reply)
        elif isinstance(ev, ReasoningDelta):
            if self.reply is not None:
                self.end_reply()
            if self.thinking is None:
                self.thinking = self._add(Block("thinking", streaming=True))
            self.thinking.text += ev.text
            self.sink.changed(self.thinking)
        elif isinstance(ev, TurnStarted):
            self.end_reply()
            self._add(Block("user", ev.text))
            self.open_turn = ev.turn_id
        elif isinstance(ev, ToolCallStarted):
            self.end_reply()
            self.tools[ev.call_id] = self._add(Block(
                "tool", name=ev.name, label=ev.label, arguments=ev.arguments, status="running",
                badge=tool_badge(ev)))
        elif isinstance(ev, ToolCallFinished):
            self._tool_finished(ev)
        elif isinstance(ev, DelegateStarted | DelegateStep | DelegateFinished):
            self._reader(ev)
        elif isinstance(ev, Injected):
            self.end_reply()
            self._add(Block("steer", ev.text))
        elif isinstance(ev, ReplySteered):
            self.end_reply("steered")
        elif isinstance(ev, ReplyRestarted):  # a fallback provider, or the answer check
            self.end_reply("withdrawn" if ev.withdrawn else "interrupted")
        elif isinstance(ev, Notice):
            self.notice(ev.text, ev.level)
        elif isinstance(ev, ErrorReported):
            self.notice(ev.message, "warning")
        elif isinstance(ev, BranchFinished):  # between turns or mid-reply: after what is shown
            self._add(Block("branch", ev.result, label=ev.question, status=ev.state))
        elif isinstance(ev, TurnFinished):
            self.end_reply()
            self._close(ev.turn_id)
        elif isinstance(ev, TurnCancelled):
            self.end_reply("cancelled")
            for block in self.tools.values():
                block.status, block.text = "cancelled", "[cancelled by user]"
                self.sink.changed(block)
            self.tools.clear()
            self.notice(CANCELLED_TEXT, "cancelled")
            self._close(ev.turn_id)
        elif isinstance(ev, TurnFailed):
            self.end_reply()
            self.notice(f"error: {ev.error}", "error")
            self._close(ev.turn_id)

    def _tool_finished(self, ev: ToolCallFinished) -> None:
        block = self.tools.pop(ev.call_id, None)
        if block is None:
            block = self._add(Block("tool", name=ev.name, label=ev.label))
        block.status = tool_status(ev.content, ev.is_error)
        block.text, block.duration = ev.content, ev.duration
        block.label = ev.label or block.label
        block.badge = tool_badge(ev) or block.badge
        self.sink.changed(block)

    def _reader(self, ev: DelegateStarted | DelegateStep | DelegateFinished) -> None:
        """The reader's steps, in one block under the tool call it reads for (open while it
        works, folded when done)."""
        if isinstance(ev, DelegateStarted) and ev.depth == 1:
            self.end_reply()
            self.reader = self._add(Block("delegate", label=ev.label, status="running",
                                          streaming=True))
            self.reader_id = ev.delegate_id
            return
        block = self.reader
        if block is None:
            return
        if isinstance(ev, DelegateStarted):  # a helper (depth 2) starts
            line = "  " * (ev.depth - 2) + f"{ev.label}: {ev.question[:80]}"
        elif isinstance(ev, DelegateStep):
            line = "  " * (ev.depth - 1) + ev.action
        elif ev.delegate_id == self.reader_id:
            line = f"→ {ev.finding[:300]}" if ev.finding else ""
            block.status, block.streaming = delegate_summary(ev), False
            self.reader = None
        else:  # a helper finished
            line = f"  → {ev.finding[:120]}"
        if line:
            block.text = f"{block.text}\n{line}" if block.text else line
        self.sink.changed(block)

    def _close(self, turn_id: str) -> None:
        self.closed.add(turn_id)
        if self.open_turn == turn_id:
            self.open_turn = None

    def close_cut_off_turn(self) -> None:
        """End of a saved session: a turn without its end was cut off by a crash or a kill."""
        if self.open_turn is not None:
            self.end_reply("cancelled")
            self.notice(CUT_OFF_TEXT, "warning")
            self._close(self.open_turn)
        else:
            self.end_reply()


def blocks_from_events(events: list[Event]) -> list[Block]:
    """A saved session's events as blocks (resume)."""
    sink = ListSink()
    fold = TranscriptFold(sink)
    for ev in events:
        fold.apply(ev)
    fold.close_cut_off_turn()
    return sink.blocks
