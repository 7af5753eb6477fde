"""What the swarm reports: frozen snapshots for views and lifecycle events for the log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from app.core.agent.events import Event, register_event


@dataclass(frozen=True)
class WorkerRow:
    """One line of the swarm view."""

    id: str
    parent: str | None
    depth: int
    label: str
    model: str
    state: str
    tool: str
    elapsed: float
    tokens: int
    iterations: int
    max_iterations: int
    tokens_left: int | None
    seconds_left: float | None
    stop_reason: str = ""


@dataclass(frozen=True)
class SwarmSnapshot:
    rows: tuple[WorkerRow, ...] = ()  # depth-first, parents before children

    @property
    def running(self) -> int:
        return sum(r.state == "running" for r in self.rows)


@register_event
@dataclass(frozen=True)
class SwarmUpdated(Event):
    persist: ClassVar[bool] = False  # a live view, not history
    snapshot: SwarmSnapshot = SwarmSnapshot()


@register_event
@dataclass(frozen=True)
class WorkerSpawned(Event):
    worker_id: str
    parent_id: str
    label: str
    task: str
    model: str
    tools: tuple[str, ...] = ()
    depth: int = 1
    max_iterations: int = 0
    max_tokens: int = 0
    seconds: float = 0.0


@register_event
@dataclass(frozen=True)
class WorkerFinished(Event):
    worker_id: str
    parent_id: str
    label: str
    state: str
    stop_reason: str = ""
    result: str = ""
    full_result_len: int = 0
    error: str = ""
    tokens: int = 0
    iterations: int = 0
    elapsed: float = 0.0


@register_event
@dataclass(frozen=True)
class BranchFinished(Event):
    """A branch ended; ``result`` is its answer (or what it had when it was stopped)."""

    worker_id: str
    question: str
    state: str  # done | failed | cancelled | over_budget
    result: str = ""
    stop_reason: str = ""
    elapsed: float = 0.0
