"""The conversation: every block of the session, drawn with Textual's Line API.

A :class:`~textual.scroll_view.ScrollView` over a list of :class:`~widgets.blocks.Block` records.
Each block is drawn once per width into ``Strip``s (:mod:`widgets.block_render`) and cached; a frame
only touches the lines on screen. Blocks never drawn at the current width count with an estimated
height, corrected when they come into view (the view stays put: only blocks on screen are
measured, so nothing above the top line moves). So a conversation of any length costs the same per
frame, and all of it can be scrolled back.

While the view is at the bottom it follows new text; scrolled up, it stays where it is and the last
line says "↓ new messages". With focus (Shift+Tab, or a click) ↑/↓ pick a block, Enter opens or
folds it (thinking, tool calls), ``c`` copies it; any other typing goes back to the prompt. Mouse
selection works as in any Textual widget (the lines carry their offsets).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.selection import Selection
from textual.strip import Strip

from widgets.block_render import Canvas, content_column, estimate
from widgets.blocks import Block
from widgets.conversation_draw import HINT, ConversationDrawing
from widgets.conversation_scroll import ConversationScrolling
from widgets.lean_scrollbar import LeanScrollBar

CACHE_BLOCKS = 2000  # drawn blocks kept; heights stay known when lines are dropped

__all__ = ["CACHE_BLOCKS", "HINT", "Conversation"]  # HINT now lives with the drawing code


class Conversation(ConversationDrawing, ConversationScrolling, ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation--muted", "conversation--accent", "conversation--user",
        "conversation--user-bar", "conversation--steer-bar", "conversation--thinking",
        "conversation--thinking-bar", "conversation--tool", "conversation--tool-bar",
        "conversation--error", "conversation--warning", "conversation--code",
        "conversation--heading", "conversation--link", "conversation--cursor",
        "conversation--hint", "conversation--selection", "conversation--reader",
        "conversation--reader-bar",
    }
    DEFAULT_CSS = """
    Conversation {
        height: 1fr; overflow-y: scroll; overflow-x: hidden; scrollbar-size-vertical: 1;
        padding-left: 1; background: $background; color: $foreground;
        /* Always there (the text width never changes under the reader), invisible until the
           conversation is longer than the screen. */
        scrollbar-background: $background; scrollbar-background-hover: $background;
        scrollbar-background-active: $background;
        &:focus { padding-left: 0; border-left: tall $accent; }
        & > .conversation--muted { color: $text-muted; }
        & > .conversation--accent { color: $accent; }
        & > .conversation--user { background: $boost; color: $foreground; }
        & > .conversation--user-bar { color: $primary; background: $boost; }
        & > .conversation--steer-bar { color: $accent; background: $boost; }
        & > .conversation--thinking { color: $text-muted; text-style: italic; }
        & > .conversation--thinking-bar { color: $foreground 25%; }
        & > .conversation--tool { color: $accent; }
        & > .conversation--tool-bar { color: $accent 50%; }
        & > .conversation--error { color: $error; }
        & > .conversation--warning { color: $warning; }
        & > .conversation--code { background: $surface; color: $foreground; }
        & > .conversation--heading { color: $primary; text-style: bold; }
        & > .conversation--link { color: $accent; text-style: underline; }
        & > .conversation--cursor { color: $accent; }
        & > .conversation--hint { background: $accent; color: $background; text-style: bold; }
        & > .conversation--selection { background: $primary 40%; }
        & > .conversation--reader { color: $secondary; }
        & > .conversation--reader-bar { color: $secondary 60%; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # Ids match app/tui/actions.py, so [keymap] remaps these too and F1 lists them.
        Binding("up", "cursor(-1)", "Previous block", show=False, id="block_previous"),
        Binding("down", "cursor(1)", "Next block", show=False, id="block_next"),
        # Shown in the footer while the view has focus: what the keys do here.
        Binding("enter,space", "toggle_block", "Open/fold", id="block_toggle",
                key_display="enter"),
        Binding("c", "copy_block", "Copy block", id="block_copy"),
        Binding("escape", "leave", "Prompt", id="block_leave"),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "top", "Top", show=False),
        Binding("end,ctrl+end", "bottom", "Bottom", show=False),
    ]

    show_thinking: reactive[bool] = reactive(True, init=False)
    FOLLOW_AHEAD = 6  # lines a following view scrolls ahead of growing text (at most 1/4 screen)

    class TypedAhead(Message):
        """A printable key pressed here: it belongs to the prompt."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    class Left(Message):
        """Escape: the user wants the prompt back."""

    class Copied(Message):
        def __init__(self, block: Block) -> None:
            super().__init__()
            self.block = block

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.blocks: list[Block] = []
        self._index: dict[int, int] = {}
        self._heights: list[int] = []
        self._exact: list[bool] = []
        self._tops: list[int] = [0]
        self._tops_ok = 0  # _tops[0 .. _tops_ok] are right (a height change at i: _tops_ok <= i)
        self._width = 0
        self._drawn: LRUCache[int, tuple[tuple[int, int, int, bool], list[Strip]]] = LRUCache(
            CACHE_BLOCKS)
        self._canvas: Canvas | None = None
        self._look_key: tuple[Style, ...] = ()
        self.follow = True  # at the bottom: new text scrolls into view
        self.unseen = False  # something arrived below while scrolled up
        self.cursor: int | None = None
        self._framing = False
        self._background = Color(0, 0, 0)
        self._floor = 0  # the scrollable height while following, a few lines past the end

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        # Widget.vertical_scrollbar, with a bar that redraws only when its thumb moves.
        if self._vertical_scrollbar is None:
            bar = LeanScrollBar(vertical=True, name="vertical",
                                thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # --- the block list ------------------------------------------------------------------------

    def append(self, block: Block) -> Block:
        i = len(self.blocks)
        self.blocks.append(block)
        self._index[block.uid] = i
        self._heights.append(self._estimate(block))
        self._exact.append(False)
        self._grew(i, delta=self._heights[i])
        return block

    def changed(self, block: Block) -> None:
        i = self._index.get(block.uid)
        if i is None:
            return
        block.touch()
        if self._width <= 0 or not self.is_mounted:
            self._heights[i] = self._estimate(block)
            self._exact[i] = False
            self._tops_ok = min(self._tops_ok, i)
            return
        before = self._drawn.get(block.uid)
        old_lines = before[1] if before is not None else None
        old_h = self._heights[i]
        if self._near_view(i):
            lines = self._draw(i)
        else:
            self._drawn.discard(block.uid)
            self._heights[i], self._exact[i] = self._estimate(block), False
            self._tops_ok = min(self._tops_ok, i)
            lines = None
        if self._heights[i] != old_h:
            first = 0
            if lines is not None and old_lines is not None:  # lines above it did not change
                while (first < min(len(lines), len(old_lines))
                       and (lines[first] is old_lines[first] or lines[first] == old_lines[first])):
                    first += 1
            self._grew(i, first=first, delta=self._heights[i] - old_h)
        elif lines is not None and old_lines is not None:
            top = self._top(i)
            for k, (a, b) in enumerate(zip(old_lines, lines, strict=False)):
                if a is not b and a != b:
                    self.refresh_line(top + k)
        if not self.follow and self._below_view(i):
            self._set_unseen()
        if (not block.streaming and self.follow and self._floor
                and not any(b.streaming for b in self.blocks[-4:])):
            self.scroll_to_end()  # the text stopped: its last line back at the bottom

    def _below_view(self, i: int) -> bool:
        """Block ``i`` ends below the last line on screen (a change there is out of sight)."""
        return self._top(i) + self._heights[i] > self._view_top() + self.size.height

    async def add_notice(self, text: str, kind: str = "info") -> Block:
        """A one-line note between blocks (kept for callers of the widget-per-block view)."""
        return self.append(Block("notice", text, level=kind))

    def set_blocks(self, blocks: list[Block]) -> None:
        self.blocks = list(blocks)
        self._index = {b.uid: i for i, b in enumerate(self.blocks)}
        self._heights = [self._estimate(b) for b in self.blocks]
        self._exact = [False] * len(self.blocks)
        self._tops_ok = 0
        self._drawn.clear()
        self.cursor = None
        self.follow, self.unseen = True, False
        self._floor = 0
        self._relayout()

    def clear(self) -> None:
        self.set_blocks([])

    # --- geometry ------------------------------------------------------------------------------

    def _estimate(self, block: Block) -> int:
        return estimate(block, self._width or 80, self.show_thinking)

    def _ensure_tops(self) -> None:
        n = len(self.blocks)
        if self._tops_ok >= n and len(self._tops) == n + 1:
            return
        tops = self._tops
        del tops[self._tops_ok + 1:]
        acc = tops[self._tops_ok]
        for h in self._heights[self._tops_ok:]:
            acc += h
            tops.append(acc)
        self._tops_ok = n

    def _top(self, i: int) -> int:
        self._ensure_tops()
        return self._tops[i]

    @property
    def total_height(self) -> int:
        self._ensure_tops()
        return self._tops[-1]

    def block_at(self, y: int) -> int:
        """The index of the block drawn at virtual line ``y``, or -1."""
        self._ensure_tops()
        if y < 0 or y >= self._tops[-1]:
            return -1
        return bisect.bisect_right(self._tops, y) - 1

    def _view_top(self) -> int:
        return round(self.scroll_y)

    def _last_visible(self) -> int:
        i = self.block_at(self._view_top() + max(self.size.height, 1) - 1)
        return len(self.blocks) - 1 if i < 0 else i

    def _near_view(self, i: int) -> bool:
        top = self._top(i)
        view = self._view_top()
        on_screen = top < view + self.size.height + 2 and top + self._heights[i] > view - 2
        return on_screen or (self.follow and i >= len(self.blocks) - 2)

    # --- drawing (the blocks themselves: widgets/conversation_draw.py) -------------------------

    def get_line_filters(self) -> Sequence[LineFilter]:
        # ANSI colours become truecolour when a block is drawn (see _draw); the app applies the
        # other filters (no-colour, dim) to every frame as usual. Per frame, the conversion was
        # a fifth of what a streaming frame cost.
        return [f for f in super().get_line_filters() if not isinstance(f, ANSIToTruecolor)]

    def render_line(self, y: int) -> Strip:
        width = self._width
        # The widget's rich_style walks its ancestors on every call: use the look's copy.
        base = self._canvas.look.base if self._canvas is not None else self.rich_style
        if width <= 0:
            return Strip.blank(self.size.width, base)
        if self.unseen and not self.follow and y == self.size.height - 1:
            return self._hint_strip()
        vy = self._view_top() + y
        i = self.block_at(vy)
        if i < 0:
            return Strip.blank(width, base)
        top = self._tops[i]
        lines = self._draw(i)
        k = vy - top
        if k >= len(lines):  # measured just now, taller than estimated: settles next frame
            self.call_later(self._settle_and_refresh)
            return Strip.blank(width, base)
        strip = lines[k]
        if i == self.cursor and self.has_focus:
            mark = Segment("▌", self.get_component_rich_style("conversation--cursor"))
            strip = Strip([mark, *strip.crop(1, width)], width)
        selection = self.text_selection
        if selection is not None:
            strip = self._select(strip, selection, vy)
        if self._framing:
            return strip
        # Asked directly (Textual finds where a mouse selection starts this way): the cells carry
        # their offsets. Frames leave them out: each offset is a pickled style per segment.
        return strip.apply_offsets(0, vy)

    def render_lines(self, crop: Region) -> list[Strip]:
        self._framing = True
        try:
            return super().render_lines(crop)
        finally:
            self._framing = False


    # --- layout and scrolling (the rest: widgets/conversation_scroll.py) -----------------------

    def on_resize(self, _: events.Resize) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_attached and self._canvas is not None:
            before = self._canvas
            if self._look() is not before:
                self._relayout()

    def watch_show_thinking(self) -> None:
        self._relayout()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        at_end = round(new) >= self.max_scroll_y
        if at_end != self.follow:
            self.follow = at_end
            if at_end:
                self.unseen = False
            self.refresh()
        if round(old) != round(new):
            self._settle()


    # --- actions -------------------------------------------------------------------------------

    def action_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=max(0, min(self.max_scroll_y, round(self.scroll_y) + direction * step)),
                       animate=False, immediate=True)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)

    def action_bottom(self) -> None:
        self.scroll_to_end()

    def action_cursor(self, step: int) -> None:
        if not self.blocks:
            return
        if self.cursor is None:
            i = self._last_visible() if step < 0 else self.block_at(self._view_top())
        else:
            i = self.cursor + step
        while 0 <= i < len(self.blocks) and self._heights[i] == 0 and self._exact[i]:
            i += step
        if not 0 <= i < len(self.blocks):
            return
        self.cursor = i
        self.scroll_to_block(i)
        self.refresh()

    def action_toggle_block(self) -> None:
        if self.cursor is not None:
            self.toggle(self.cursor)

    def toggle(self, i: int) -> bool:
        block = self.blocks[i]
        if block.kind not in ("thinking", "tool", "delegate") or block.streaming:
            return False
        block.open = not block.open
        self.changed(block)
        self.refresh()
        return True

    def selected_block(self) -> Block | None:
        return self.blocks[self.cursor] if self.cursor is not None else None

    def action_copy_block(self) -> None:
        block = self.selected_block()
        if block is not None:
            self.post_message(self.Copied(block))

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def on_focus(self) -> None:
        if self.cursor is None and self.blocks:
            self.cursor = self._last_visible()
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character and event.character not in ("c", " "):
            event.stop()
            event.prevent_default()
            self.post_message(self.TypedAhead(event.character))

    def on_click(self, event: events.Click) -> None:
        style = event.style
        if style.link:
            self.app.open_url(style.link)
            return
        where = event.get_content_offset(self)
        if where is None:
            return
        if self.unseen and not self.follow and where.y == self.size.height - 1:
            self.scroll_to_end()
            return
        i = self.block_at(self._view_top() + where.y)
        if i >= 0:
            self.cursor = i
            self.toggle(i)

    # --- selection -----------------------------------------------------------------------------

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        total = self.total_height
        first = 0 if selection.start is None else selection.start.y
        last = total - 1 if selection.end is None else min(selection.end.y, total - 1)
        out: list[str] = []
        for vy in range(first, last + 1):
            i = self.block_at(vy)
            if i < 0:
                continue
            lines = self._draw(i)
            k = vy - self._top(i)
            if k >= len(lines):
                continue
            text = lines[k].text
            span = selection.get_span(vy)
            if span is None:
                continue
            start, end = span
            col = content_column(self.blocks[i])
            out.append(text[max(start, col):None if end == -1 else end].rstrip())
        return "\n".join(out), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
