"""Retry timing and per-provider circuit breakers.

One shared predicate decides what is worth retrying on the same provider: an answer with a status
that says "later" (429, 5xx, also when it arrives mid-stream as an SSE error), and a transient
failure (a connection reset mid-reply, a stalled or cut stream). A refused connection (the server is
gone) or a malformed reply moves on to the next provider at once, and 401/403 are never retried:
they open the breaker until the user fixes the key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from app.core.providers.base import ProviderError

AUTH_STATUSES = frozenset({401, 403})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3  # extra tries on the same provider for 429/5xx
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After means: go elsewhere now

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before try ``attempt + 1``; a server's Retry-After wins when given."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1)))


def retry_same(exc: ProviderError, policy: RetryPolicy, attempt: int) -> bool:
    """Whether to try the same provider again after ``attempt`` failed tries."""
    if exc.status in AUTH_STATUSES or not exc.retryable:
        return False
    if exc.status is None and not exc.transient:
        return False
    if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
        return False
    return attempt <= policy.max_retries


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Opens after ``threshold`` failures in a row; lets one trial through after ``cooldown``."""

    def __init__(self, name: str, *, threshold: int = 3, cooldown: float = 30.0,
                 auth_cooldown: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.auth_cooldown = auth_cooldown
        self._clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._open_for = cooldown
        self.last_error = ""

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self.opened_at >= self._open_for:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def remaining(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self._open_for - (self._clock() - self.opened_at))

    def allow(self) -> bool:
        return self.state is not BreakerState.OPEN

    def tries_left(self) -> int:
        """How many failures in a row this breaker takes before it opens (a half-open one: 1)."""
        state = self.state
        if state is BreakerState.OPEN:
            return 0
        if state is BreakerState.HALF_OPEN:
            return 1
        return max(1, self.threshold - self.failures)

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.last_error = ""

    def record_failure(self, error: str = "", *, auth: bool = False) -> None:
        self.failures += 1
        self.last_error = error
        if auth:
            self.opened_at, self._open_for = self._clock(), self.auth_cooldown
        elif self.failures >= self.threshold or self.state is BreakerState.HALF_OPEN:
            self.opened_at, self._open_for = self._clock(), self.cooldown

    def describe(self) -> str:
        if self.state is BreakerState.CLOSED:
            return f"{self.name}: ok" if not self.failures else \
                f"{self.name}: {self.failures} recent failure(s)"
        return (f"{self.name}: circuit {self.state.value} for {self.remaining():.0f} s more "
                f"after {self.failures} failure(s){': ' + self.last_error if self.last_error else ''}")


class BreakerBoard:
    """One breaker per provider name, shared by every chain that uses the provider."""

    def __init__(self, *, threshold: int = 3, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self._clock = threshold, cooldown, clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker:
        if name not in self._breakers:
            self._breakers[name] = CircuitBreaker(name, threshold=self.threshold,
                                                  cooldown=self.cooldown, clock=self._clock)
        return self._breakers[name]

    def all(self) -> list[CircuitBreaker]:
        return list(self._breakers.values())
