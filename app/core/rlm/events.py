"""What the delegate reports: one event when it starts, one per step, one with its finding."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.agent.events import Event, register_event


@register_event
@dataclass(frozen=True)
class DelegateStarted(Event):
    delegate_id: str
    call_id: str  # the tool call whose output it reads ("" for a volume question)
    label: str
    question: str
    variables: str  # "output_0: 60,312 chars"
    model: str = ""
    depth: int = 1


@register_event
@dataclass(frozen=True)
class DelegateStep(Event):
    delegate_id: str
    round: int
    action: str  # ctx_grep(output_0, "error") -> 12 lines
    depth: int = 1
    seconds: float = 0.0
    confidence: float = 0.0


@register_event
@dataclass(frozen=True)
class DelegateFinished(Event):
    delegate_id: str
    call_id: str
    finding: str
    rounds: int = 0
    seconds: float = 0.0
    stop_reason: str = ""
    confidence: float = 0.0
    error: str = ""
