"""What the user typed (or steered mid-turn), shown as a block in the conversation."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.block_spec import BlockSpec

MAX_SHOWN_LINES = 12  # a long paste shows its head; the session keeps the whole text


def _shown(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= MAX_SHOWN_LINES and len(text) <= 4000:
        return text
    head = "\n".join(lines[:MAX_SHOWN_LINES])[:4000]
    return f"{head}\n… ({len(lines)} lines, {len(text):,} characters in all)"


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage { margin: 1 1 0 1; padding: 0 1; background: $boost; border-left: thick $primary; }
    UserMessage.-steer { border-left: thick $accent; margin: 0 1 0 3; }
    """

    def __init__(self, text: str, *, steer: bool = False, **kwargs: object) -> None:
        body = Text(_shown(text))
        if steer:
            body = Text.assemble(("↪ steer  ", "bold"), body)
        super().__init__(body, **kwargs)  # type: ignore[arg-type]
        self.text = text
        self.steer = steer
        if steer:
            self.add_class("-steer")

    def to_spec(self) -> BlockSpec:
        return BlockSpec("steer" if self.steer else "user", self.text)
