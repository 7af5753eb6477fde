"""What the status bar says the turn is doing, and which core events change it."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.agent.events import (
    Event,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)


@dataclass(frozen=True)
class TurnState:
    state: str = "idle"  # idle, waiting, streaming, thinking, tool, cancelling
    detail: str = ""


IDLE = TurnState()
WAITING = TurnState("waiting", "for the model")


def state_after(event: Event) -> TurnState | None:
    """The turn's state once ``event`` has happened (None: the event does not change it)."""
    if isinstance(event, ReasoningDelta):
        return TurnState("thinking")
    if isinstance(event, TextDelta):
        return TurnState("streaming")
    if isinstance(event, TurnStarted | ToolCallFinished):
        return WAITING
    if isinstance(event, ToolCallStarted):
        return TurnState("tool", event.label or event.name)
    if isinstance(event, TurnFinished | TurnCancelled | TurnFailed):
        return IDLE
    return None
