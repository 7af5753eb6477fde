"""The model's reasoning: dim, collapsible, hidden altogether while thinking display is off.

Hiding is a CSS rule on the screen class ``-hide-thinking`` (Ctrl+T), not a loop over widgets.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from widgets.block_spec import BlockSpec


class ThinkingBlock(Widget, can_focus=True):
    DEFAULT_CSS = """
    ThinkingBlock { height: auto; margin: 1 1 0 1; padding: 0 1; border-left: thick $panel; }
    ThinkingBlock > .thinking--title { color: $text-muted; text-style: italic; }
    ThinkingBlock > .thinking--body { color: $text-muted; text-style: italic; }
    ThinkingBlock.-collapsed > .thinking--body { display: none; }
    ThinkingBlock:focus { border-left: thick $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_open", "Expand/collapse", show=False)]

    collapsed = reactive(False)

    def __init__(self, text: str = "", *, collapsed: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._parts = [text] if text else []
        self._title = Static(classes="thinking--title")
        self._body = Static(classes="thinking--body")
        self.set_reactive(ThinkingBlock.collapsed, collapsed)
        self.finished = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._body

    def on_mount(self) -> None:
        self.set_class(self.collapsed, "-collapsed")
        self._render_parts()

    def append(self, text: str) -> None:
        self._parts.append(text)
        self._render_parts()

    def finish(self) -> None:
        """The answer started: fold the reasoning away (a click or Enter opens it again)."""
        if not self.finished:
            self.finished = True
            self.collapsed = True
            self._render_parts()

    def _render_parts(self) -> None:
        words = len(self.text.split())
        state = "▸" if self.collapsed else "▾"
        verb = "Thought" if self.finished else "Thinking…"
        self._title.update(Text(f"{state} ∴ {verb} ({words} words)"))
        if not self.collapsed:
            self._body.update(Text(self.text.strip()))

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        self._render_parts()

    def action_toggle_open(self) -> None:
        self.collapsed = not self.collapsed

    def on_click(self) -> None:
        self.action_toggle_open()

    def to_spec(self) -> BlockSpec:
        return BlockSpec("thinking", self.text)
