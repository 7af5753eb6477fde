"""The top line of a pruned conversation: how many blocks are hidden, and a way to bring some back."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static


class PruneMarker(Static, can_focus=True):
    DEFAULT_CSS = """
    PruneMarker { margin: 0 2; color: $text-muted; text-style: italic; }
    PruneMarker:focus { color: $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "restore", "Show earlier", show=False)]

    class RestoreRequested(Message):
        pass

    def set_count(self, hidden: int) -> None:
        self.update(Text(f"▲ {hidden} earlier block{'s' if hidden != 1 else ''} hidden to keep the "
                         "view fast (the session file keeps everything); click to show more"))

    def action_restore(self) -> None:
        self.post_message(self.RestoreRequested())

    def on_click(self) -> None:
        self.action_restore()
