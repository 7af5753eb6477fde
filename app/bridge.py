"""The one place where core events become Textual messages, and UI commands reach the core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

from app.core.compaction import manager_of
from app.core.events import Event
from app.core.session import Session, TurnOutcome
from app.core.swarm import swarm_of

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

    # Workers and compaction (issue 6): commands for the swarm pane and /compact.
    def cancel_worker(self, worker_id: str) -> list[str]:
        swarm = swarm_of(self.session)
        return swarm.cancel(worker_id) if swarm is not None else []

    def worker_transcript(self, worker_id: str) -> tuple[tuple[str, str], ...]:
        swarm = swarm_of(self.session)
        return swarm.transcript(worker_id) if swarm is not None else ()

    def compact(self) -> str:
        manager = manager_of(self.session)
        return manager.compact_now() if manager is not None else "compaction is not set up"

    def close(self) -> None:
        self._unsubscribe()
