"""When the delegate stops: a time budget per request class, an EMA of round latency, confidence.

The loop stops when the minimum rounds are done and the delegate's stated confidence reaches the
threshold, when rounds stall (nothing new learned), when the round cap is reached, or when the next
round is predicted (EMA of round time x 1.2) not to fit in the time left. A final answer round is
always allowed after the stop, so a stop never loses what was found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

BASE_BUDGET_S = {"simple": 3.0, "medium": 8.0, "complex": 20.0}
MIN_ROUNDS = {"simple": 1, "medium": 2, "complex": 3}
EMA_ALPHA = 0.3
PREDICT_MARGIN = 1.2
CONFIDENCE = 0.85
STALL_ROUNDS = 3


def request_class(question: str, chars: int) -> str:
    """simple / medium / complex from the size of the text and the shape of the question: a
    question asking for several things, counts or comparisons needs more rounds."""
    words = len(question.split())
    many = sum(question.lower().count(w) for w in (" and ", " all ", "how many", "each", "every",
                                                   "compare", "most", "list"))
    if chars > 100_000 or many >= 2 or words > 40:
        return "complex"
    if chars > 20_000 or many or words > 15:
        return "medium"
    return "simple"


@dataclass
class RlmBudget:
    time_budget_s: float
    min_rounds: int
    max_rounds: int = 8
    confidence: float = CONFIDENCE

    @classmethod
    def for_request(cls, question: str, chars: int, *, interactive: bool = False,
                    scale: float = 1.0, max_rounds: int = 8) -> RlmBudget:
        """``scale`` stretches the base budgets for slow hardware (a 0.5B model on 2 CPU cores
        takes seconds per round where a GPU takes a fraction of one)."""
        kind = request_class(question, chars)
        seconds = BASE_BUDGET_S[kind] * scale * (0.5 if interactive else 1.0)
        return cls(seconds, MIN_ROUNDS[kind], max_rounds)


@dataclass
class Controller:
    budget: RlmBudget
    clock: Callable[[], float] = time.monotonic
    started: float = 0.0
    rounds: int = 0
    ema_s: float | None = None
    stalled: int = 0
    last_confidence: float = 0.0
    stop_reason: str = ""
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return self.budget.time_budget_s - self.elapsed()

    def record(self, seconds: float, *, confidence: float, new_info: bool) -> None:
        self.rounds += 1
        self.ema_s = seconds if self.ema_s is None else (
            EMA_ALPHA * seconds + (1 - EMA_ALPHA) * self.ema_s)
        self.last_confidence = confidence
        self.stalled = 0 if new_info else self.stalled + 1

    def max_tokens(self) -> int:
        """Shorter replies as time runs out (2,048 / 1,024 / 512 above 70 % / 30 % / below)."""
        share = self.left() / max(self.budget.time_budget_s, 1e-9)
        return 2048 if share > 0.7 else 1024 if share > 0.3 else 512

    def should_stop(self) -> bool:
        b = self.budget
        if self.rounds >= b.min_rounds and self.last_confidence >= b.confidence:
            self.stop_reason = f"confident ({self.last_confidence:.2f})"
        elif self.stalled >= STALL_ROUNDS:
            self.stop_reason = f"stalled ({self.stalled} rounds without new information)"
        elif self.rounds >= b.max_rounds:
            self.stop_reason = f"round cap ({b.max_rounds})"
        elif self.ema_s is not None and self.rounds >= b.min_rounds and \
                self.ema_s * PREDICT_MARGIN > self.left():
            self.stop_reason = (f"time budget (next round ~{self.ema_s * PREDICT_MARGIN:.1f}s, "
                                f"{max(self.left(), 0):.1f}s left)")
        else:
            return False
        return True
