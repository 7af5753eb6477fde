"""What the user typed, shown as a block in the conversation."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage { margin: 1 1 1 1; padding: 0 1; background: $boost; border-left: thick $primary; }
    """

    def __init__(self, text: str, **kwargs: object) -> None:
        super().__init__(Text(text), **kwargs)  # type: ignore[arg-type]
        self.text = text
