"""What memory reports into a session's log (registered so any reader of a session file knows it)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.agent.events import Event, register_event


@register_event
@dataclass(frozen=True)
class MemoryNoted(Event):
    """Facts auto-recall put before the user's message (the session file shows what was added)."""

    facts: tuple[str, ...] = ()
