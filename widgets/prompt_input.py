"""The prompt line at the bottom."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Input


class PromptInput(Input):
    DEFAULT_CSS = """
    PromptInput { dock: bottom; margin: 0 1; }
    """

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__(placeholder="Ask Nanobot…  (Enter to send)", **kwargs)  # type: ignore[arg-type]

    async def action_submit(self) -> None:
        text = self.value
        if text.strip():
            self.value = ""
            self.post_message(self.Submitted(text))
