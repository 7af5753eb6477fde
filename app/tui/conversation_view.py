"""Live core events → conversation widgets. The App owns one; resume uses :mod:`app.tui.transcript`.

Events of a turn that was already cancelled are dropped (a late chunk must not reopen a reply).
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
from app.tui.transcript import CANCELLED_TEXT, delegate_summary
from widgets.conversation import Conversation
from widgets.delegate_block import DelegateBlock
from widgets.reply_stream import ReplyStream
from widgets.thinking_block import ThinkingBlock
from widgets.tool_call import ToolCallBlock


class ConversationView:
    def __init__(self, conversation: Conversation) -> None:
        self.conv = conversation
        self.reply: ReplyStream | None = None
        self.last_reply: ReplyStream | None = None
        self.thinking: ThinkingBlock | None = None
        self.tools: dict[str, ToolCallBlock] = {}
        self.closed_turns: set[str] = set()
        self.reader: DelegateBlock | None = None  # the reader at work now (steps of depth 2 too)
        self.reader_id = ""

    async def end_reply(self, *, cancelled: bool = False) -> None:
        if self.thinking is not None:
            self.thinking.finish()
            self.thinking = None
        if self.reply is not None:
            await self.reply.finish(cancelled=cancelled)
            self.last_reply, self.reply = self.reply, None

    async def settle(self) -> None:
        if self.reply is not None:
            await self.reply.settle()

    async def apply(self, ev: Event) -> None:
        if ev.turn_id and ev.turn_id in self.closed_turns:
            return
        conv = self.conv
        if isinstance(ev, TurnStarted):
            await self.end_reply()
            await conv.add_user(ev.text)
        elif isinstance(ev, TextDelta):
            if self.thinking is not None:
                self.thinking.finish()
                self.thinking = None
            if self.reply is None:
                self.reply = conv.reply_stream()
            await self.reply.append(ev.text)
        elif isinstance(ev, ReasoningDelta):
            if self.reply is not None:
                await self.end_reply()
            if self.thinking is None:
                self.thinking = ThinkingBlock()
                await conv.add(self.thinking)
            self.thinking.append(ev.text)
        elif isinstance(ev, ToolCallStarted):
            await self.end_reply()
            block = ToolCallBlock(ev.name, ev.arguments, ev.label)
            self.tools[ev.call_id] = block
            await conv.add(block)
        elif isinstance(ev, ToolCallFinished):
            done = self.tools.get(ev.call_id)
            if done is not None:
                del self.tools[ev.call_id]
                done.finish(ev.content, is_error=ev.is_error, duration=ev.duration)
        elif isinstance(ev, DelegateStarted | DelegateStep | DelegateFinished):
            await self._reader(ev)
        elif isinstance(ev, Injected):
            await self.end_reply()
            await conv.add_user(ev.text, steer=True)
        elif isinstance(ev, ReplyRestarted):  # a fallback provider starts the reply again
            await self.end_reply(cancelled=True)
        elif isinstance(ev, Notice):
            await self.end_reply()
            await conv.add_notice(ev.text, ev.level)
        elif isinstance(ev, ErrorReported):
            await self.end_reply()
            await conv.add_notice(ev.message, "warning")
        elif isinstance(ev, TurnFinished):
            await self.end_reply()
            self.closed_turns.add(ev.turn_id)
        elif isinstance(ev, TurnCancelled):
            await self.end_reply(cancelled=True)
            for block in self.tools.values():
                block.finish("[cancelled by user]", is_error=True)
            self.tools.clear()
            await conv.add_notice(CANCELLED_TEXT, "cancelled")
            self.closed_turns.add(ev.turn_id)
        elif isinstance(ev, TurnFailed):
            await self.end_reply()
            await conv.add_notice(f"error: {ev.error}", "error")
            self.closed_turns.add(ev.turn_id)

    async def _reader(self, ev: DelegateStarted | DelegateStep | DelegateFinished) -> None:
        """The reader's steps, in one block under the tool call it reads for."""
        if isinstance(ev, DelegateStarted):
            if ev.depth == 1:
                self.reader, self.reader_id = DelegateBlock(ev.label), ev.delegate_id
                await self.conv.add(self.reader)
            elif self.reader is not None:
                self.reader.add_step(f"{ev.label}: {ev.question[:80]}", ev.depth - 1)
        elif self.reader is None:
            return
        elif isinstance(ev, DelegateStep):
            self.reader.add_step(ev.action, ev.depth)
        elif ev.delegate_id == self.reader_id:
            self.reader.finish(delegate_summary(ev), ev.finding[:300])
            self.reader = None
        else:  # a summarize helper finished
            self.reader.add_step(f"→ {ev.finding[:120]}", 2)
