"""Solvers for tasks, kept apart from the engine: calibration scores samples with them and the
post-hoc audit checks a finished run against them. The engine never imports this module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.process.task import Task


@dataclass(frozen=True)
class OracleCase:
    """A reachable situation and its right answer."""

    step: int
    state: Any
    prev: Any
    action: Any
    next_state: Any


@dataclass(frozen=True)
class Oracle:
    cases: Callable[[Task, int, int], list[OracleCase]]  # (task, count, seed) -> random cases
    action_at: Callable[[Task, int], Any]  # (task, step) -> the right action at that step


_ORACLES: dict[str, Oracle] = {}


def register_oracle(task: str, oracle: Oracle) -> None:
    _ORACLES[task] = oracle


def oracle_for(task: Task) -> Oracle:
    if not _ORACLES:
        _builtin()
    oracle = _ORACLES.get(task.name)
    if oracle is None:
        raise ValueError(f"task {task.name!r} has no solver to score or audit with")
    return oracle


def _builtin() -> None:
    from app.core.process.tasks import hanoi_oracle as h

    def cases(task: Task, count: int, seed: int) -> list[OracleCase]:
        return [OracleCase(c.step, c.state, c.prev, c.move, c.next_state)
                for c in h.random_cases(int(task.params["disks"]), count, seed)]

    def action_at(task: Task, step: int) -> Any:
        return h.move_at(int(task.params["disks"]), step)

    register_oracle("hanoi", Oracle(cases, action_at))
