"""The scrolling conversation pane.

It stays anchored to the bottom while the user is at the bottom (Textual's ``anchor``: scrolling up
releases it, scrolling back down restores it). Past ``high_water`` blocks or ``high_widgets``
widgets the oldest blocks are pruned down to the low marks — only while anchored, so nothing moves
under a reader — and kept as :class:`BlockSpec` records that the marker at the top can bring back.
The session keeps everything.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget

from widgets.assistant_message import AssistantMessage
from widgets.block_spec import BlockSpec
from widgets.delegate_block import DelegateBlock
from widgets.notice_line import NoticeLine
from widgets.prune_marker import PruneMarker
from widgets.reply_stream import ReplyStream
from widgets.thinking_block import ThinkingBlock
from widgets.tool_call import ToolCallBlock
from widgets.user_message import UserMessage

HIGH_WATER = 300  # blocks
LOW_WATER = 200
# Textual lays out every widget of the screen on each layout pass, visible or not, and a Markdown
# block is many widgets (paragraphs, list items, table cells). Bounding the widget count is what
# keeps the cost of a frame flat however long the conversation.
HIGH_WIDGETS = 600
LOW_WIDGETS = 350
KEEP_LAST = 2  # never prune the newest blocks (one may still be streaming)
RESTORE_STEP = 50


def block_from_spec(spec: BlockSpec) -> Widget:
    if spec.kind in ("user", "steer"):
        return UserMessage(spec.text, steer=spec.kind == "steer")
    if spec.kind == "assistant":
        seg = AssistantMessage(spec.text)
        seg.set_class(spec.cancelled, "-cancelled")
        return seg
    if spec.kind == "thinking":
        block = ThinkingBlock(spec.text, collapsed=True)
        block.finished = True
        return block
    if spec.kind == "tool":
        return ToolCallBlock.from_spec(spec)
    if spec.kind == "delegate":
        return DelegateBlock.from_spec(spec)
    return NoticeLine(spec.text, spec.level)


class Conversation(VerticalScroll):
    DEFAULT_CSS = """
    Conversation { height: 1fr; layout: stream; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, high_water: int = HIGH_WATER, low_water: int = LOW_WATER,
                 high_widgets: int = HIGH_WIDGETS, low_widgets: int = LOW_WIDGETS,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.high_water, self.low_water = high_water, low_water
        self.high_widgets, self.low_widgets = high_widgets, low_widgets
        self.pruned: list[BlockSpec] = []
        self._marker: PruneMarker | None = None

    def on_mount(self) -> None:
        self.anchor()

    @property
    def blocks(self) -> list[Widget]:
        return [w for w in self.children if not isinstance(w, PruneMarker)]

    async def add(self, block: Widget) -> Widget:
        await self.mount(block)
        await self._maybe_prune()
        return block

    async def add_user(self, text: str, *, steer: bool = False) -> UserMessage:
        block = UserMessage(text, steer=steer)
        await self.add(block)
        return block

    async def add_notice(self, text: str, kind: str = "info") -> NoticeLine:
        line = NoticeLine(text, kind)
        await self.add(line)
        return line

    def reply_stream(self, *, live: bool = True) -> ReplyStream:
        async def mount(seg: AssistantMessage) -> None:
            await self.add(seg)

        return ReplyStream(mount, live=live)

    async def add_specs(self, specs: list[BlockSpec]) -> None:
        """Rebuild a view: only the newest blocks get widgets; the marker brings back more."""
        keep = specs[-RESTORE_STEP:] if len(specs) > RESTORE_STEP else specs
        self.pruned.extend(specs[: len(specs) - len(keep)])
        await self.mount_all([block_from_spec(s) for s in keep])
        await self._update_marker()

    async def clear(self) -> None:
        self.pruned.clear()
        self._marker = None
        await self.remove_children()

    async def _maybe_prune(self) -> None:
        if not self._at_bottom():
            return
        blocks = self.blocks
        weights = [1 + sum(1 for _ in b.walk_children()) for b in blocks]
        total = sum(weights)
        if len(blocks) <= self.high_water and total <= self.high_widgets:
            return
        cut = 0
        while cut < len(blocks) - KEEP_LAST and (
                len(blocks) - cut > self.low_water or total > self.low_widgets):
            total -= weights[cut]
            cut += 1
        if not cut:
            return
        drop = blocks[:cut]
        self.pruned.extend(b.to_spec() for b in drop if hasattr(b, "to_spec"))
        await self.remove_children(drop)
        await self._update_marker()

    def _at_bottom(self) -> bool:
        # Textual has no public "anchor released" flag; is_vertical_scroll_end lags a layout behind
        # while streaming, which would stop pruning exactly when it is needed.
        return not getattr(self, "_anchor_released", False)

    async def _update_marker(self) -> None:
        if not self.pruned:
            if self._marker is not None:
                await self._marker.remove()
                self._marker = None
            return
        if self._marker is None:
            self._marker = PruneMarker()
            first = self.children[0] if self.children else None
            await self.mount(self._marker, before=first)
        self._marker.set_count(len(self.pruned))

    async def on_prune_marker_restore_requested(self, _: PruneMarker.RestoreRequested) -> None:
        await self.restore(RESTORE_STEP)

    async def restore(self, n: int) -> int:
        """Bring back the ``n`` most recent pruned blocks above the current ones."""
        if not self.pruned:
            return 0
        take = self.pruned[-n:]
        del self.pruned[-n:]
        self.high_water += len(take)
        blocks = self.blocks
        widgets = [block_from_spec(s) for s in take]
        if blocks:
            await self.mount_all(widgets, before=blocks[0])
        else:
            await self.mount_all(widgets)
        # Do not prune them again straight away.
        self.high_widgets += sum(1 + sum(1 for _ in w.walk_children()) for w in widgets)
        await self._update_marker()
        return len(take)
