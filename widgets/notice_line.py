"""A one-line marker in the conversation: a notice, an error, "cancelled"."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.block_spec import BlockSpec

ICONS = {"error": "✗ ", "warning": "! ", "cancelled": "■ ", "info": "· ", "tool": "⚙ "}


class NoticeLine(Static):
    DEFAULT_CSS = """
    NoticeLine { margin: 0 2; color: $text-muted; }
    NoticeLine.-error { color: $error; }
    NoticeLine.-warning { color: $warning; }
    NoticeLine.-cancelled { color: $warning; text-style: bold; }
    NoticeLine.-tool { color: $accent; }
    """

    def __init__(self, text: str, kind: str = "info", **kwargs: object) -> None:
        super().__init__(Text(ICONS.get(kind, "") + text), **kwargs)  # type: ignore[arg-type]
        self.text = text
        self.kind = kind
        self.add_class(f"-{kind}")

    def to_spec(self) -> BlockSpec:
        return BlockSpec("notice", self.text, level=self.kind)
