"""Streams one assistant reply into a chain of :class:`AssistantMessage` segments.

Writes arrive in batches (the bridge coalesces deltas on a short timer). Each batch is one
``MarkdownStream.write``; once a segment holds ``segment_chars`` characters, the next top-level
block boundary starts a fresh segment, so the cost of an append stays flat however long the reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.widgets.markdown import MarkdownStream

from widgets.assistant_message import AssistantMessage
from widgets.markdown_split import BlockBoundaries

SEGMENT_CHARS = 2500

Mount = Callable[[AssistantMessage], Awaitable[None]]


class ReplyStream:
    def __init__(self, mount: Mount, *, segment_chars: int = SEGMENT_CHARS,
                 live: bool = True) -> None:
        self._mount = mount
        self.segment_chars = segment_chars
        self.live = live  # False: whole segments at once (rebuilding a view), no stream tasks
        self.segments: list[AssistantMessage] = []
        self._parts: list[str] = []
        self._stream: MarkdownStream | None = None
        self._seg_len = 0
        self._seg_parts: list[str] = []
        self._open = False
        self._bounds = BlockBoundaries()
        self.finished = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    async def append(self, text: str) -> None:
        if not text or self.finished:
            return
        self._parts.append(text)
        consumed = 0
        for cut in self._bounds.feed(text):
            if self._seg_len + (cut - consumed) >= self.segment_chars:
                await self._write(text[consumed:cut])
                await self._close_segment()
                consumed = cut
        await self._write(text[consumed:])

    async def _write(self, piece: str) -> None:
        if not piece:
            return
        if not self._open:
            await self._open_segment()
        self._seg_len += len(piece)
        if self._stream is not None:
            await self._stream.write(piece)
        else:
            self._seg_parts.append(piece)

    async def _open_segment(self) -> None:
        self._open, self._seg_len = True, 0
        if not self.live:
            return  # mounted whole when it closes: one parse instead of many
        seg = self._new_segment("")
        await self._mount(seg)
        self._stream = AssistantMessage.get_stream(seg)

    def _new_segment(self, text: str) -> AssistantMessage:
        seg = AssistantMessage(text)
        if not self.segments:
            seg.add_class("-first")
        self.segments.append(seg)
        return seg

    async def _close_segment(self) -> None:
        if not self._open:
            return
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        else:
            await self._mount(self._new_segment("".join(self._seg_parts)))
            self._seg_parts = []
        self._open, self._seg_len = False, 0

    async def settle(self) -> None:
        """Wait until everything written so far is in the document (tests, benchmarks)."""
        if self._stream is not None and self.segments:
            await self._stream.stop()
            self._stream = AssistantMessage.get_stream(self.segments[-1])

    async def finish(self, *, cancelled: bool = False) -> None:
        if self.finished:
            return
        await self._close_segment()
        self.finished = True
        if cancelled and self.segments:
            self.segments[-1].add_class("-cancelled")
