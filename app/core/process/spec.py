"""A process's fixed description: task, voting settings, samplers, budget. Stored as process.json."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

LOG_TEXT = ("flagged", "all")


class SpecError(ValueError):
    """A setting cannot work (an impossible budget, k < 1, ...): reported before anything runs."""


@dataclass(frozen=True)
class ProcessBudget:
    """Limits over the whole life of a process (all runs and resumes together); None = no limit."""

    max_steps: int | None = None
    max_tokens: int | None = None
    max_wall_s: float | None = None

    def check(self, k: int) -> None:
        if self.max_steps is not None and self.max_steps < 1:
            raise SpecError(f"budget: max steps must be at least 1, got {self.max_steps}")
        if self.max_tokens is not None and self.max_tokens < k:
            raise SpecError(f"budget: {self.max_tokens} tokens cannot pay for even one step "
                            f"(at least k = {k} samples of one token)")
        if self.max_wall_s is not None and self.max_wall_s <= 0:
            raise SpecError(f"budget: wall-clock limit must be positive, got {self.max_wall_s}")


# A process id names a directory under the processes directory: nothing that could climb out of
# it or hide (no "/", no leading dot, no ".."), and short enough for any file system.
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def new_process_id(task: str) -> str:
    return f"{task}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class ProcessSpec:
    id: str
    task: str
    params: dict[str, Any]
    k: int
    sampler: dict[str, Any]
    tau: float = 0.1  # temperature of every sample after a step's first
    first_temperature: float = 0.0  # the first sample of a step: greedy, so it is always a vote
    token_cap: int = 750
    max_rounds: int = 10  # voting rounds per model before escalating
    escalation: tuple[dict[str, Any], ...] = ()
    budget: ProcessBudget = field(default_factory=ProcessBudget)
    seed: int = 0
    grammar: bool = True  # send the task's GBNF to endpoints that accept one
    log_text: str = "flagged"  # which samples keep their raw text in the log
    checkpoint_every: int = 1000  # steps; also at least every checkpoint_seconds
    checkpoint_seconds: float = 2.0
    parent: str | None = None
    calibration: dict[str, Any] = field(default_factory=dict)
    # Where the task comes from when it is not a registered name (``loader.build_task``), and its
    # step count when known, so views show a process without loading its task.
    task_source: str = ""
    total_steps: int | None = None
    created: float = field(default_factory=time.time)

    def check_id(self) -> None:
        if not SAFE_ID.match(self.id) or ".." in self.id:
            raise SpecError(f"process id {self.id!r} is not allowed: use letters, digits, '_', "
                            "'-' and '.', starting with a letter or digit")

    def check(self) -> None:
        self.check_id()
        if self.k < 1:
            raise SpecError(f"k must be at least 1, got {self.k}")
        if not 0.0 <= self.tau <= 2.0 or not 0.0 <= self.first_temperature <= 2.0:
            raise SpecError("temperatures must be between 0 and 2")
        if self.token_cap < 1:
            raise SpecError(f"the token cap must be at least 1, got {self.token_cap}")
        if self.max_rounds < 1:
            raise SpecError(f"max rounds must be at least 1, got {self.max_rounds}")
        if self.log_text not in LOG_TEXT:
            raise SpecError(f"log_text must be one of {', '.join(LOG_TEXT)}")
        if self.checkpoint_every < 1 or self.checkpoint_seconds <= 0:
            raise SpecError("checkpoint interval must be positive")
        self.budget.check(self.k)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["escalation"] = list(self.escalation)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcessSpec:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise SpecError(f"unknown field(s) {', '.join(sorted(unknown))}")
        kwargs = dict(data)
        kwargs["budget"] = ProcessBudget(**dict(data.get("budget") or {}))
        kwargs["escalation"] = tuple(data.get("escalation") or ())
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise SpecError(str(exc)) from exc
