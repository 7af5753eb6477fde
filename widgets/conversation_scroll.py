"""How the conversation view keeps its place: measuring again after a resize or a theme change,
repainting only what a growing block changed, following the end while it streams, and staying put
(with a "new messages" hint) while the reader is scrolled up.

A mixin of :class:`widgets.conversation.Conversation` (not a widget of its own), kept apart so the
widget module stays about the block list, keys and events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from widgets.block_render import Canvas
from widgets.blocks import Block

if TYPE_CHECKING:  # the view it is mixed into; at run time a plain class
    _View = ScrollView
else:
    _View = object


class ConversationScrolling(_View):
    if TYPE_CHECKING:  # provided by the Conversation
        FOLLOW_AHEAD: ClassVar[int]
        blocks: list[Block]
        _heights: list[int]
        _exact: list[bool]
        _tops_ok: int
        _width: int
        _drawn: LRUCache[int, tuple[tuple[int, int, int, bool], list[Strip]]]
        _floor: int
        follow: bool
        unseen: bool

        @property
        def total_height(self) -> int: ...

        def block_at(self, y: int) -> int: ...

        def _look(self) -> Canvas: ...

        def _draw(self, i: int) -> list[Strip]: ...

        def _estimate(self, block: Block) -> int: ...

        def _top(self, i: int) -> int: ...

        def _view_top(self) -> int: ...

        def _near_view(self, i: int) -> bool: ...

        def _below_view(self, i: int) -> bool: ...

    def _relayout(self) -> None:
        """The width, the theme or the whole list changed: estimate again, keep the top block."""
        if not self.is_mounted:
            return
        self._look()
        width = self.scrollable_content_region.width
        anchor = -1 if self.follow else self.block_at(self._view_top())
        offset = self._view_top() - self._top(anchor) if anchor >= 0 else 0
        if width != self._width:
            self._width = width
            self._drawn.clear()
        self._heights = [self._estimate(b) for b in self.blocks]
        self._exact = [False] * len(self.blocks)
        self._tops_ok = 0
        self._update_size()
        if anchor >= 0:
            self.scroll_to(y=self._top(anchor) + offset, animate=False, immediate=True)
        self._settle()
        if self.follow:
            self.scroll_to_end()
            self._settle()
        self.refresh()

    def _update_size(self) -> None:
        size = Size(self._width, max(self.total_height, self._floor))
        if size == self.virtual_size:
            return
        # Not ``self.virtual_size = size``: that reactive asks for a layout of the whole row
        # (every widget beside the view, on every new line). The view's own size never depends
        # on its content, so updating the scroll state and the scrollbar is all it needs.
        self.set_reactive(ScrollView.virtual_size, size)
        bar = self.vertical_scrollbar
        bar.window_virtual_size = size.height
        bar.window_size = self.scrollable_content_region.height
        if self.scroll_y > self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def _grew(self, i: int, *, first: int = 0, delta: int = 0) -> None:
        """Block ``i`` was added or changed height by ``delta``; its lines from ``first`` on
        differ. Repaint only from there to the bottom of the screen (a scroll repaints it all)."""
        if not self.is_mounted or self._width <= 0:
            return
        top = self._top(i)
        if self._near_view(i):
            self._draw(i)
        view = self._view_top()
        height = self.size.height
        self._update_size()
        self._settle()
        if self.follow:
            self._to_end()
        elif top < view:  # above the screen: keep what the reader sees where it is
            if delta:
                self.scroll_to(y=view + delta, animate=False, immediate=True)
            return
        elif self._below_view(i):
            self._set_unseen()
        now = self._view_top()
        if now != view:
            return  # it scrolled: every line is repainted anyway
        start = max(top + first, now)
        total = self.total_height  # below the end (before and after the change) all is blank
        end = min(now + height, max(total, total - delta))
        if start < end:
            self.refresh_lines(start, end - start)

    def _settle(self) -> None:
        """Draw the blocks on screen that only have estimated heights, so the frame is exact."""
        if self._width <= 0:
            return
        changed = False
        for _ in range(100):
            view, h = self._view_top(), max(self.size.height, 1)
            i = max(0, self.block_at(view))
            again = False
            while i < len(self.blocks) and self._top(i) < view + h:
                if not self._exact[i]:
                    before = self._heights[i]
                    self._draw(i)
                    if self._heights[i] != before:
                        changed = again = True
                        break
                i += 1
            if not again:
                break
        if changed:
            self._update_size()
            if self.follow:
                self._to_end()

    def _settle_and_refresh(self) -> None:
        self._settle()
        self.refresh()

    def _to_end(self) -> None:
        """Follow the end. Growing text that reaches the bottom scrolls the view by a few lines
        at once (the scrollable height is held a few blank lines past the end, ``_floor``, until
        the text fills them): each scroll repaints every line on screen, so scrolling per new line
        was most of what streaming cost."""
        height = self.scrollable_content_region.height
        total = self.total_height
        if total <= round(self.scroll_y) + height and self.virtual_size.height >= total:
            return  # the end is on screen
        self._floor = total + max(0, min(self.FOLLOW_AHEAD, height // 4))
        self._update_size()
        end = self.max_scroll_y
        if round(self.scroll_y) != end:
            self.scroll_to(y=end, animate=False, immediate=True)

    def _set_unseen(self) -> None:
        if not self.unseen:
            self.unseen = True
            self.refresh_line(self._view_top() + self.size.height - 1)

    def scroll_to_end(self) -> None:
        self.follow = True
        self.unseen = False
        self._floor = 0  # asked for the end: the last line at the bottom
        self._update_size()
        end = self.max_scroll_y
        if round(self.scroll_y) != end:
            self.scroll_to(y=end, animate=False, immediate=True)
        self.refresh()

    def scroll_to_block(self, i: int) -> None:
        top, h = self._top(i), self._heights[i]
        view, height = self._view_top(), self.scrollable_content_region.height
        if top < view or h > height:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + h > view + height:
            self.scroll_to(y=top + h - height, animate=False, immediate=True)
