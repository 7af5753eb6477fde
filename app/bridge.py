"""The one place where core events become Textual messages, and UI commands reach the core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

from app.core.events import Event
from app.core.session import Session, TurnOutcome

if TYPE_CHECKING:
    from textual.app import App


class CoreEvent(Message):
    """A core event delivered on the UI thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class SessionBridge:
    def __init__(self, app: App[Any], session: Session) -> None:
        self.app = app
        self.session = session
        self._unsubscribe = session.add_listener(self._forward)

    def _forward(self, event: Event) -> None:
        # post_message is thread-safe; listeners run on the asyncio loop of the session.
        self.app.post_message(CoreEvent(event))

    @property
    def running(self) -> bool:
        return self.session.running

    async def submit(self, text: str) -> TurnOutcome:
        return await self.session.run_turn(text)

    def cancel(self) -> bool:
        return self.session.cancel()

    def inject(self, text: str) -> bool:
        return self.session.inject(text)

    def set_thinking(self, on: bool, budget: int | None = None) -> None:
        self.session.thinking = on
        self.session.thinking_budget = budget

    def close(self) -> None:
        self._unsubscribe()
