"""Events a running process reports (``turn_id`` carries the process id)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.agent.events import Event, register_event


@dataclass(frozen=True)
class ProcessProgress(Event):
    """A checkpoint was written: where the process stands and how fast it goes."""

    step: int
    total: int  # 0 = unknown
    samples: int
    flagged: int
    k: int
    steps_per_s: float
    eta_s: float  # -1 = unknown


@dataclass(frozen=True)
class ProcessNote(Event):
    """Something worth telling the user: an escalation, a skipped torn line, a re-issued sample."""

    text: str
    level: str = "info"


@dataclass(frozen=True)
class ProcessEnded(Event):
    status: str  # finished, paused, stopped or failed
    reason: str
    step: int


for _cls in (ProcessProgress, ProcessNote, ProcessEnded):
    register_event(_cls)
