"""How the conversation view draws a block: the theme's styles made into a canvas, each block
drawn once per width into cached strips, the "new messages" hint and the mouse selection.

A mixin of :class:`widgets.conversation.Conversation` (not a widget of its own), kept apart so the
widget module stays about the block list, keys and events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.color import Color
from textual.filter import ANSIToTruecolor, LineFilter
from textual.reactive import reactive
from textual.selection import Selection
from textual.strip import Strip

from widgets.block_render import Canvas, Look, draw
from widgets.blocks import Block

if TYPE_CHECKING:  # the view it is mixed into; at run time a plain class
    from textual.scroll_view import ScrollView as _View
else:
    _View = object

HINT = " ↓ new messages (Ctrl+End or click) "


class ConversationDrawing(_View):
    if TYPE_CHECKING:  # provided by the Conversation
        show_thinking: reactive[bool]
        blocks: list[Block]
        _heights: list[int]
        _exact: list[bool]
        _tops_ok: int
        _width: int
        _drawn: LRUCache[int, tuple[tuple[int, int, int, bool], list[Strip]]]
        _canvas: Canvas | None
        _look_key: tuple[Style, ...]
        _background: Color

    def _look(self) -> Canvas:
        key = (*(self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES)),
               self.rich_style)
        if self._canvas is None or key != self._look_key:
            self._look_key = key
            self._canvas = self._make_canvas(self._canvas.gen + 1 if self._canvas else 0)
            self._background = self.background_colors[1]
            self._drawn.clear()
            self._exact = [False] * len(self.blocks)
        return self._canvas

    def _make_canvas(self, gen: int) -> Canvas:
        s = self.get_component_rich_style
        base = self.rich_style
        muted = s("conversation--muted")
        accent = s("conversation--accent")
        heading = s("conversation--heading")
        code = s("conversation--code")
        link = s("conversation--link")
        error = s("conversation--error")
        warning = s("conversation--warning")
        dark = self.app.current_theme.dark if self.is_attached else True
        code_bg = code.bgcolor.get_truecolor().hex if code.bgcolor else None
        md = {
            "markdown.code": Style(color=accent.color, bgcolor=code.bgcolor),
            "markdown.code_block": code,
            "markdown.block_quote": muted + Style(italic=True),
            "markdown.item.bullet": accent, "markdown.item.number": accent,
            "markdown.hr": muted, "markdown.h1": heading + Style(underline=True),
            **{f"markdown.h{n}": heading for n in range(2, 7)},
            "markdown.link": link, "markdown.link_url": link,
            "markdown.table.border": muted, "markdown.table.header": Style(bold=True),
            "markdown.kbd": accent + Style(bold=True),
        }
        look = Look(
            base=base, muted=muted, accent=accent,
            user=s("conversation--user"), user_bar=s("conversation--user-bar"),
            steer_bar=s("conversation--steer-bar"),
            thinking=s("conversation--thinking"),
            thinking_bar=s("conversation--thinking-bar"),
            tool=s("conversation--tool"),
            tool_bar=s("conversation--tool-bar"),
            tool_error=error, tool_cancelled=warning, cancelled_bar=warning,
            reader=s("conversation--reader"), reader_bar=s("conversation--reader-bar"),
            notice={"info": muted, "warning": warning, "error": error,
                    "cancelled": warning + Style(bold=True), "tool": accent},
            code_theme="monokai" if dark else "friendly", code_background=code_bg,
            markdown=md)
        return Canvas(look, look.console(), {}, gen)

    def _draw(self, i: int) -> list[Strip]:
        block = self.blocks[i]
        canvas = self._canvas or self._look()
        key = (self._width, canvas.gen, block.version, self.show_thinking)
        hit = self._drawn.get(block.uid)
        if hit is not None and hit[0] == key:
            lines = hit[1]
        else:
            if block.kind == "thinking" and not self.show_thinking:
                lines = []
            else:
                lines = draw(block, self._width, canvas)
                for line_filter in self._colour_filters():  # once here, not on every frame
                    lines = [line.apply_filter(line_filter, self._background) for line in lines]
            self._drawn.discard(block.uid)  # LRUCache.set keeps an existing entry
            self._drawn[block.uid] = (key, lines)
        if len(lines) != self._heights[i]:
            self._heights[i] = len(lines)
            self._tops_ok = min(self._tops_ok, i)
        self._exact[i] = True
        return lines

    def _colour_filters(self) -> list[LineFilter]:
        return [f for f in self.app.get_line_filters() if isinstance(f, ANSIToTruecolor)]

    def _hint_strip(self) -> Strip:
        style = self.get_component_rich_style("conversation--hint")
        text = HINT[: self._width]
        pad = self._width - len(text)
        return Strip([Segment(" " * pad, self.rich_style), Segment(text, style)], self._width)

    def _select(self, strip: Strip, selection: Selection, vy: int) -> Strip:
        span = selection.get_span(vy)
        if span is None:
            return strip
        start, end = span
        end = strip.cell_length if end == -1 else min(end, strip.cell_length)
        if end <= start:
            return strip
        style = self.get_component_rich_style("conversation--selection")
        head, mid, tail = strip.divide([start, end, strip.cell_length])
        mid = Strip(list(Segment.apply_style(mid, post_style=style)), mid.cell_length)
        return Strip.join([head, mid, tail])
