"""A frozen snapshot of every process on disk, for dashboards that poll (the TUI process view)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.process.store import list_processes
from app.core.process.view import ProcessView, describe_process


@dataclass(frozen=True)
class ProcessesSnapshot:
    processes: tuple[ProcessView, ...]

    @property
    def active(self) -> tuple[ProcessView, ...]:
        return tuple(p for p in self.processes if p.status in ("running", "interrupted",
                                                               "paused", "stopped"))


def snapshot_processes(root: Path | None = None) -> ProcessesSnapshot:
    return ProcessesSnapshot(tuple(describe_process(s) for s in list_processes(root)))
