"""A worker's transcript over the main screen: its task, replies, tool calls and results.

It shows the (kind, text) lines it is given and can be handed fresh ones (``show``) while the worker
runs; Escape closes it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PREFIX = {"task": "Task: ", "assistant": "", "call": "→ ", "result": "  ", "error": "  ✗ ",
          "notice": "· ", "end": "■ "}


class WorkerTranscript(ModalScreen[None]):
    DEFAULT_CSS = """
    WorkerTranscript { align: center middle; }
    WorkerTranscript > VerticalScroll {
        width: 90%; height: 85%; border: round $primary; background: $surface; padding: 0 1;
    }
    WorkerTranscript .line { margin: 0 0 1 0; }
    WorkerTranscript .-task { color: $primary; text-style: bold; }
    WorkerTranscript .-call { color: $accent; }
    WorkerTranscript .-result { color: $text-muted; }
    WorkerTranscript .-error { color: $error; }
    WorkerTranscript .-notice { color: $warning; }
    WorkerTranscript .-end { color: $text-muted; text-style: italic; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self, worker_id: str, title: str,
                 lines: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.heading = title
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = self.heading
            scroll.border_subtitle = "Esc to close"
            yield from self._statics(self.lines)

    def _statics(self, lines: tuple[tuple[str, str], ...]) -> list[Static]:
        return [Static(Text(PREFIX.get(kind, "") + text), classes=f"line -{kind}")
                for kind, text in lines]

    async def show(self, lines: tuple[tuple[str, str], ...]) -> None:
        """Replace the lines (the worker moved on); only what changed is re-mounted."""
        if lines == self.lines:
            return
        scroll = self.query_one(VerticalScroll)
        same = 0
        while same < min(len(lines), len(self.lines)) and lines[same] == self.lines[same]:
            same += 1
        for widget in list(scroll.children)[same:]:
            await widget.remove()
        await scroll.mount_all(self._statics(lines[same:]))
        self.lines = lines
