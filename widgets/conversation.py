"""The scrolling conversation pane, anchored to the bottom while the user is there."""

from __future__ import annotations

from textual.containers import VerticalScroll

from widgets.assistant_message import AssistantMessage
from widgets.notice_line import NoticeLine
from widgets.user_message import UserMessage


class Conversation(VerticalScroll):
    DEFAULT_CSS = """
    Conversation { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.current: AssistantMessage | None = None

    def on_mount(self) -> None:
        self.anchor()

    async def add_user(self, text: str) -> UserMessage:
        block = UserMessage(text)
        await self.mount(block)
        return block

    async def add_notice(self, text: str, kind: str = "info") -> NoticeLine:
        line = NoticeLine(text, kind)
        await self.mount(line)
        return line

    async def assistant(self) -> AssistantMessage:
        if self.current is None:
            self.current = AssistantMessage()
            await self.mount(self.current)
        return self.current

    async def end_assistant(self, *, cancelled: bool = False) -> None:
        if self.current is not None:
            await self.current.finish(cancelled=cancelled)
            self.current = None
