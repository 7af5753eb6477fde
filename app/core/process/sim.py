"""A simulated Hanoi sampler: a stand-in model with a chosen error rate, for proving the engine.

Each sample is right with probability ``p``. A wrong sample is one of:
- a plausible wrong move: another legal move, with the matching next state (passes every rule, so
  only the vote can reject it);
- an inconsistent answer: the right move with a wrong next state, or an illegal move (the validator
  rejects it);
- malformed output (the parser rejects it) or a runaway reply that hits the token cap.

Correlated mode: a share of steps is "hard". There the error rate rises to ``hard_error`` and every
valid error is the *same* wrong move, so the errors of one step are no longer independent; a share of
the confused samples (``hard_flagged``) also runs long, as MAKER observed, and is red-flagged.

Randomness is a hash of (seed, step, sample index), so a resumed step draws exactly the samples it
drew before the crash, and a run is reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.process.samplers import SampleRequest, SampleResult
from app.core.process.tasks.hanoi import (
    Move,
    State,
    apply_move,
    fmt_move,
    fmt_state,
    legal_moves,
)
from app.core.process.tasks.hanoi_oracle import strategy_move

_MIX = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_SCALE = 1.0 / (1 << 53)

MALFORMED = (
    "Move disk {d} from peg {s} to peg {t}.",
    "move = [{d}, {s}]\nnext_state = {state}",
    "```\nmove = [{d}, {s}, {t}]\n```",
    "move = [{d}, {s}, {t}]\nnext_state = {state}\nThis follows the strategy.",
    "I cannot determine the next move.",
    "move = [{d}, {s}, {t}\nnext_state = {state}",
    "",
)


@dataclass(frozen=True)
class SimConfig:
    p: float = 0.99  # chance that a sample is right
    malformed: float = 0.15  # shares of the wrong samples ...
    overlong: float = 0.05
    inconsistent: float = 0.15  # ... the rest are plausible wrong moves
    correlated: float = 0.0  # share of steps that are hard
    hard_error: float = 0.3
    hard_flagged: float = 0.5
    delay_ms: float = 0.0  # simulated latency per round

    def check(self) -> None:
        for name, value in asdict(self).items():
            if name != "delay_ms" and not 0.0 <= value <= 1.0:
                raise ValueError(f"sim {name} must be between 0 and 1, got {value}")
        if self.malformed + self.overlong + self.inconsistent > 1.0:
            raise ValueError("sim malformed + overlong + inconsistent shares must not exceed 1")
        if self.delay_ms < 0:
            raise ValueError("sim delay_ms must be >= 0")


def _u(seed: int, step: int, index: int, j: int) -> float:
    h = hash((seed, step, index, j)) & _MASK
    h = (h * _MIX) & _MASK
    h ^= h >> 29
    return (((h * _MIX) & _MASK) >> 11) * _SCALE


class SimulatedHanoiSampler:
    def __init__(self, disks: int, fmt: str = "full", config: SimConfig | None = None,
                 seed: int = 0) -> None:
        self.disks = disks
        self.format = fmt
        self.config = config or SimConfig()
        self.config.check()
        self.seed = seed
        c = self.config
        self.label = f"sim(p={c.p})"
        self._bounds = (c.malformed, c.malformed + c.overlong,
                        c.malformed + c.overlong + c.inconsistent)
        self.samples = 0

    def describe(self) -> dict[str, Any]:
        return {"kind": "sim", **asdict(self.config)}

    def _text(self, move: Move, after: State | None, before: State | None = None) -> str:
        if self.format == "choice" and before is not None:
            options = legal_moves(before)
            return f"answer = {'ABC'[options.index(move)] if move in options else 'C'}"
        if self.format != "full" or after is None:
            return f"move = {fmt_move(move)}"
        return f"move = {fmt_move(move)}\nnext_state = {fmt_state(after)}"

    def one(self, req: SampleRequest) -> SampleResult:
        state: State = req.state
        right = strategy_move(state, req.prev_action, self.disks)
        seed, step, i = self.seed, req.step, req.idx
        c = self.config
        hard = c.correlated > 0 and _u(seed, step, -1, 0) < c.correlated
        error = c.hard_error if hard else 1.0 - c.p
        if _u(seed, step, i, 1) >= error:
            after = apply_move(state, right)
            assert not isinstance(after, str)
            return self._result(self._text(right, after, state), req)
        wrong = [m for m in legal_moves(state) if m != right]
        if hard:
            if _u(seed, step, i, 2) < c.hard_flagged:
                return self._overlong(req)
            move = wrong[0]
            after = apply_move(state, move)
            assert not isinstance(after, str)
            return self._result(self._text(move, after, state), req)
        kind = _u(seed, step, i, 2)
        pick = _u(seed, step, i, 3)
        if kind < self._bounds[0]:
            d, s, t = right
            template = MALFORMED[int(pick * len(MALFORMED))]
            return self._result(template.format(d=d, s=s, t=t, state=fmt_state(state)), req)
        if kind < self._bounds[1]:
            return self._overlong(req)
        if kind < self._bounds[2] or not wrong:
            return self._result(self._inconsistent(state, right, pick), req)
        move = wrong[int(pick * len(wrong))]
        after = apply_move(state, move)
        assert not isinstance(after, str)
        return self._result(self._text(move, after, state), req)

    def _inconsistent(self, state: State, right: Move, pick: float) -> str:
        if self.format == "full" and pick < 0.5:
            # The right move with the state before it (a classic copy error).
            return self._text(right, state, state)
        d, s, _ = right
        # Put the moving disk back where it is, or onto the third peg the wrong way round.
        return self._text((d, s, s) if pick < 0.75 else (d + 1, s, 3 - s - _), state, state)

    def _overlong(self, req: SampleRequest) -> SampleResult:
        self.samples += 1
        text = "Let me think step by step about the pegs. " * (req.max_tokens // 8 + 1)
        return SampleResult(text, req.max_tokens, "length", "sim")

    def _result(self, text: str, req: SampleRequest) -> SampleResult:
        self.samples += 1
        return SampleResult(text, len(text) // 3 + 1, "stop", "sim")

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]:
        if self.config.delay_ms:
            await asyncio.sleep(self.config.delay_ms / 1000)
        return [self.one(r) for r in requests]

    async def aclose(self) -> None:
        return None
