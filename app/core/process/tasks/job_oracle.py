"""A job's solver: the expected answers its input holds (``[input] expected``). Calibration scores
samples with it and the audit checks decisions against it; a run never loads it."""

from __future__ import annotations

import random
from typing import Any

from app.core.process.answer_format import answer_key
from app.core.process.oracle import Oracle, OracleCase


def job_oracle() -> Oracle:
    def expected(task: Any, step: int) -> Any:
        return task.format.typed(task.items[step][task.expected_field])

    def cases(task: Any, count: int, seed: int) -> list[OracleCase]:
        rng = random.Random(seed)
        out = []
        for _ in range(count):
            i = rng.randrange(len(task.items))
            out.append(OracleCase(i, i, None, expected(task, i), i + 1))
        return out

    def judge(task: Any, step: int, state: Any, action: Any) -> bool:
        return answer_key(action) == answer_key(expected(task, step))

    return Oracle(cases, expected, judge)
