"""A vertical scrollbar that redraws only when its thumb moves on screen.

Textual's :class:`~textual.scrollbar.ScrollBar` redraws all its lines whenever the scroll position
or the content height changes at all. A conversation that grows by a line ten times a second
changes both all the time while the thumb stays on the same cells, and each redraw costs about as
much as redrawing the text beside it. This one compares the thumb's cells (in the eighths of a
cell that the bar draws) and refreshes only when they differ.
"""

from __future__ import annotations

from math import ceil

from textual.reactive import Reactive
from textual.scrollbar import ScrollBar


class LeanScrollBar(ScrollBar):
    window_virtual_size: Reactive[int] = Reactive(100, repaint=False)
    window_size: Reactive[int] = Reactive(0, repaint=False)
    position: Reactive[float] = Reactive(0, repaint=False)

    _thumb: tuple[int, int, int] = (-1, -1, -1)

    def thumb(self) -> tuple[int, int, int]:
        """(start, end, bar length) of the thumb in eighths of a cell, as ScrollBarRender draws."""
        size = self.size.height if self.vertical else self.size.width
        virtual, window = ceil(self.window_virtual_size), ceil(self.window_size)
        if window >= virtual:
            window = 0
        if not window or not size or virtual == window:
            return (0, 0, size)
        thumb = max(1, window / (virtual / size))
        where = (size - thumb) * (self.position / (virtual - window))
        start = int(where * 8)
        return (start, start + ceil(thumb * 8), size)

    _pending = False

    def _check(self) -> None:
        self._pending = False
        thumb = self.thumb()
        if thumb != self._thumb:
            self._thumb = thumb
            self.refresh()

    def _check_soon(self) -> None:
        # The content grows, then the view follows it: two changes that cancel out on screen.
        # Judge the thumb once both are in.
        if not self._pending:
            self._pending = True
            self.call_later(self._check)

    def watch_window_virtual_size(self) -> None:
        self._check_soon()

    def watch_window_size(self) -> None:
        self._check_soon()

    def watch_position(self) -> None:
        self._check_soon()

    def on_resize(self) -> None:
        self._check_soon()
