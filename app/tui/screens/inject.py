"""The backtick inject line: a message delivered to the running turn at its next safe point."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class InjectScreen(ModalScreen[str | None]):
    AUTO_FOCUS = "#inject-input"
    DEFAULT_CSS = """
    InjectScreen { align: center bottom; background: $background 40%; }
    InjectScreen > Vertical { height: auto; width: 100%; background: $surface; padding: 0 1;
                              border-top: thick $accent; }
    InjectScreen .inject--hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("inject› reaches the model at the next safe point, as a priority "
                         "message. Enter sends, Esc closes.", classes="inject--hint")
            yield Input(placeholder="inject›", id="inject-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value if event.value.strip() else None)

    def action_close(self) -> None:
        self.dismiss(None)
