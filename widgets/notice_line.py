"""A one-line marker in the conversation: a tool call, a notice, an error, "cancelled"."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class NoticeLine(Static):
    DEFAULT_CSS = """
    NoticeLine { margin: 0 2; color: $text-muted; }
    NoticeLine.-error { color: $error; }
    NoticeLine.-warning { color: $warning; }
    NoticeLine.-tool { color: $accent; }
    """

    def __init__(self, text: str, kind: str = "info", **kwargs: object) -> None:
        super().__init__(Text(text), **kwargs)  # type: ignore[arg-type]
        self.text = text
        self.add_class(f"-{kind}")
