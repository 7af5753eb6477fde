"""The Hanoi solver: for scoring calibration samples, simulating a model, and auditing a finished run.

The step engine never imports this module (a test checks it): during a run every decision comes from
votes on the model's answers, checked by the rules alone.

The optimal solution has a closed form. After m moves of the n-disk solution, disk d has moved
floor((m + 2^(d-1)) / 2^d) times, always in the same direction: -1 (mod 3) when n - d is even,
+1 otherwise. So any step's state and move cost O(n), which makes random reachable states cheap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from app.core.process.tasks.hanoi import Move, State, apply_move


def state_at(disks: int, m: int) -> State:
    """The state after ``m`` moves of the optimal solution (0 <= m < 2^disks)."""
    pegs: list[list[int]] = [[], [], []]
    for d in range(disks, 0, -1):
        moves = (m + (1 << (d - 1))) >> d
        step = -1 if (disks - d) % 2 == 0 else 1
        pegs[(moves * step) % 3].append(d)
    return (tuple(pegs[0]), tuple(pegs[1]), tuple(pegs[2]))


def move_at(disks: int, m: int) -> Move:
    """The move made at step ``m`` (0-based) of the optimal solution."""
    # Step m moves the disk whose index is the lowest set bit of m + 1.
    d = ((m + 1) & -(m + 1)).bit_length()
    before = (m + (1 << (d - 1))) >> d
    step = -1 if (disks - d) % 2 == 0 else 1
    src = (before * step) % 3
    return (d, src, (src + step) % 3)


def strategy_move(state: State, prev: Move | None, disks: int) -> Move:
    """What the stated strategy prescribes from (previous move, state), right or not for the goal.

    A simulated model applies this rule; it is the same rule the prompt tells the model.
    """
    direction = 1 if disks % 2 == 0 else -1
    if prev is None or prev[0] != 1:
        src = next(i for i, peg in enumerate(state) if peg and peg[-1] == 1)
        return (1, src, (src + direction) % 3)
    others = [i for i, peg in enumerate(state) if not (peg and peg[-1] == 1)]
    a, b = others
    ta = state[a][-1] if state[a] else None
    tb = state[b][-1] if state[b] else None
    if ta is None or (tb is not None and tb < ta):
        assert tb is not None, "both non-disk-1 pegs empty: the tower is complete"
        return (tb, b, a)
    return (ta, a, b)


@dataclass(frozen=True)
class Case:
    """One reachable situation with its right answer."""

    step: int
    state: State
    prev: Move | None
    move: Move
    next_state: State


def case_at(disks: int, step: int) -> Case:
    state = state_at(disks, step)
    move = move_at(disks, step)
    after = apply_move(state, move)
    assert not isinstance(after, str), after
    prev = move_at(disks, step - 1) if step > 0 else None
    return Case(step, state, prev, move, after)


def random_cases(disks: int, count: int, seed: int = 0) -> list[Case]:
    """``count`` situations at uniformly random steps of the n-disk solution."""
    rng = random.Random(seed)
    total = 2 ** disks - 1
    return [case_at(disks, rng.randrange(total)) for _ in range(count)]
