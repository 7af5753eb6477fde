"""A task of your own: a running sum over COUNT numbers, one addition per step.

Run it (from anywhere; the file need not be inside nanobot):

    nanobot process run --task running_sum.py:TASK --param count=1000 --param seed=7 \
        --sampler-from running_sum.py:simulated_model --k 5
    nanobot process audit <id>

or with a real model: leave out ``--sampler-from`` (``--model SLOT`` picks one), calibrate first
(``nanobot process calibrate --task running_sum.py:TASK --param count=1000``) or pass ``--k``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from app.core.process.api import (
    Answer,
    CancelToken,
    Oracle,
    OracleCase,
    Param,
    Parsed,
    Prompt,
    RedFlag,
    SampleRequest,
    SampleResult,
    TaskDef,
    TaskError,
)

REPLY = re.compile(r"total = (0|[1-9][0-9]{0,15})")
State = tuple[int, int]  # (numbers added so far, the total)


class RunningSum:
    name = "running-sum"
    default_token_cap = 16  # the length red flag until calibration measures one

    def __init__(self, count: int, seed: int) -> None:
        rng = random.Random(seed)
        self.numbers = [rng.randrange(1, 1000) for _ in range(count)]
        self.params: dict[str, Any] = {"count": count, "seed": seed}
        self.total_steps: int | None = count

    def initial_state(self) -> State:
        return (0, 0)

    def prompt(self, state: State, prev_action: Any | None) -> Prompt:
        # Constant size: the system part never changes, the user part holds only this step's data.
        i, total = state
        return Prompt(system="You keep a running total. Add the number to the total and reply "
                             "with one line: total = N",
                      user=f"Total so far: {total}\nAdd: {self.numbers[i]}",
                      grammar='root ::= "total = " [0-9]{1,16}\n')

    def parse(self, text: str) -> Parsed | RedFlag:
        # Strict: anything but the exact format is a red flag, never repaired.
        m = REPLY.fullmatch(text.strip())
        return Parsed(int(m[1]), None) if m else RedFlag("format", "not 'total = N'")

    def validate(self, state: State, parsed: Parsed) -> Answer | RedFlag:
        # The rules only, never the answer: each number is 1..999, so the total grows by that much.
        # A wrong total inside that range passes: only the vote can reject it.
        i, total = state
        new = parsed.action
        if i >= len(self.numbers) or not total < new <= total + 999:
            return RedFlag("invalid", f"{new} cannot follow {total}")
        return Answer(key=str(new), action=new, next_state=(i + 1, new))

    def is_done(self, state: State) -> bool:
        return state[0] == len(self.numbers)

    def state_to_json(self, state: State) -> Any:
        return list(state)

    def state_from_json(self, data: Any) -> State:
        if not (isinstance(data, list) and len(data) == 2
                and all(type(v) is int for v in data) and 0 <= data[0] <= len(self.numbers)):
            raise TaskError(f"not a running-sum state: {data!r}")
        return (data[0], data[1])

    def action_from_json(self, data: Any) -> int:
        if type(data) is not int:
            raise TaskError(f"not a total: {data!r}")
        return data


# --- the solver: only calibration and the audit use it ---------------------------------------------

def _totals(task: Any) -> list[int]:
    cached: list[int] | None = getattr(task, "_totals", None)
    if cached is None:
        cached, total = [], 0
        for n in task.numbers:
            total += n
            cached.append(total)
        task._totals = cached
    return cached


def _cases(task: Any, count: int, seed: int) -> list[OracleCase]:
    rng, totals = random.Random(seed), _totals(task)
    out = []
    for _ in range(count):
        i = rng.randrange(len(task.numbers))
        before = totals[i - 1] if i else 0
        out.append(OracleCase(i, (i, before), None, totals[i], (i + 1, totals[i])))
    return out


TASK = TaskDef(
    name="running-sum",
    factory=lambda p: RunningSum(p["count"], p["seed"]),
    params=(Param("count", "int", help="how many numbers", min=1, max=10_000_000),
            Param("seed", "int", 0, help="which numbers")),
    oracle=Oracle(cases=_cases, action_at=lambda task, step: _totals(task)[step]),
    description="a running sum, one addition per step")


# --- a simulated model, for trying the task without one ---------------------------------------------

class SimulatedAdder:
    """Right with probability ``p``; otherwise a near-miss total (it passes the rules: only the
    vote rejects it), chatty text (a format red flag) or a runaway reply (the length red flag).
    Each sample's randomness comes from its seed, so a step redone after a kill redraws it."""

    def __init__(self, task: RunningSum, p: float = 0.85) -> None:
        self.task, self.p, self.label = task, p, f"simulated-adder(p={p})"

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]:
        out = []
        for req in requests:
            rng = random.Random(req.seed)
            i, total = req.state
            right = total + self.task.numbers[i]
            u = rng.random()
            if u < self.p:
                text, finish = f"total = {right}", "stop"
            elif u < self.p + (1 - self.p) * 0.6:
                text, finish = f"total = {right + rng.choice((-10, -1, 1, 10))}", "stop"
            elif u < self.p + (1 - self.p) * 0.9:
                text, finish = f"The new total is {right}.", "stop"
            else:
                text, finish = "total = " + "9" * 40, "length"
            out.append(SampleResult(text, len(text) // 3, finish, self.label))
        return out

    async def aclose(self) -> None:
        return None


def simulated_model(task: RunningSum, seed: int) -> SimulatedAdder:
    return SimulatedAdder(task)
