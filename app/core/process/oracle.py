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
    # (task, step, state, decided action) -> right? For tasks where several actions are equally
    # right (two spellings of one edit); without it the audit compares with ``action_at``.
    judge: Callable[[Task, int, Any, Any], bool] | None = None


_ORACLES: dict[str, Oracle] = {}


def register_oracle(task: str, oracle: Oracle) -> None:
    _ORACLES[task] = oracle


def oracle_for(task: Task) -> Oracle:
    """The task's solver: what its own ``solver()`` method returns (a task whose solver depends on
    its parameters, such as a job with expected answers), else the one registered for its name."""
    own = getattr(task, "solver", None)
    if callable(own):
        found = own()
        if isinstance(found, Oracle):
            return found
    if "hanoi" not in _ORACLES:
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

    def micro_cases(task: Task, count: int, seed: int) -> list[OracleCase]:
        # Alternate the two kinds of question: which rule, then the rule's own question.
        out = []
        for i, c in enumerate(h.random_cases(int(task.params["disks"]), count, seed)):
            rule = "A" if c.prev is None or c.prev[0] != 1 else "B"
            if i % 2 == 0:
                out.append(OracleCase(2 * c.step, (c.state, c.prev, None), c.prev, ("rule", rule),
                                      (c.state, c.prev, rule)))
            else:
                out.append(OracleCase(2 * c.step + 1, (c.state, c.prev, rule), c.prev,
                                      ("move", c.move), (c.next_state, c.move, None)))
        return out

    def micro_action_at(task: Task, step: int) -> Any:
        disks = int(task.params["disks"])
        m = step // 2
        if step % 2 == 0:
            return ("rule", "A" if m == 0 or h.move_at(disks, m - 1)[0] != 1 else "B")
        return ("move", h.move_at(disks, m))

    register_oracle("hanoi-micro", Oracle(micro_cases, micro_action_at))
