"""MAKER's numbers: the margin k a first-to-ahead-by-k vote needs, its cost, and bounds on p.

Notation (algorithms.md §1): p is the per-sample success rate among valid samples, s the number of
steps, t the target probability that all s steps are right, m = 1 steps per call.

- Per-step success of a two-way first-to-ahead-by-k race: 1 / (1 + ((1-p)/p)^k).
- k_min = ceil( ln(t^(-m/s) - 1) / ln((1-p)/p) ).
- Expected votes per step: the duration of a gambler's-ruin walk that starts halfway between the two
  absorbing barriers at -k and +k.

The bounds are one-sided lower bounds on p: k is chosen from what p is at least, never from the
point estimate, because a point estimate from a few hundred samples is optimistic by construction.
"""

from __future__ import annotations

import math

MAX_K = 1000


class NoGo(ValueError):
    """p is not above 1/2: voting cannot converge on the right answer."""


def step_success(p: float, k: int) -> float:
    """Probability that a first-to-ahead-by-k race between a right and a wrong answer is won right."""
    if p >= 1.0:
        return 1.0
    if p <= 0.0:
        return 0.0
    return 1.0 / (1.0 + ((1.0 - p) / p) ** k)


def task_success(p: float, k: int, steps: int, m: int = 1) -> float:
    return float(step_success(p, k) ** (steps / m))


def k_min(p: float, steps: int, target: float = 0.95, m: int = 1) -> int:
    """The smallest k with task_success(p, k, steps) >= target; raises NoGo when p <= 0.5."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be between 0 and 1, got {target}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if p <= 0.5:
        raise NoGo(f"p = {p:.4f} is not above 0.5: no margin k makes voting converge")
    if p >= 1.0:
        return 1
    # t^(-m/s) - 1 computed as expm1 so that it keeps its digits for s in the millions.
    slack = math.expm1(-math.log(target) * m / steps)
    k = math.ceil(math.log(slack) / math.log((1.0 - p) / p))
    k = max(1, k)
    # Guard against rounding at the boundary: the formula is exact, the floats are not.
    while task_success(p, k, steps, m) < target and k < MAX_K:
        k += 1
    return k


def expected_votes(p: float, k: int) -> float:
    """Expected counted votes until one of two answers leads by k (gambler's ruin from k to 0 or 2k)."""
    if p <= 0.0 or p >= 1.0:
        return float(k)
    q = 1.0 - p
    if abs(p - q) < 1e-12:
        return float(k * k)
    r = q / p
    z, n = k, 2 * k
    return z / (q - p) - (n / (q - p)) * (1.0 - r ** z) / (1.0 - r ** n)


def expected_samples(p: float, k: int, valid_rate: float) -> float:
    """Expected samples drawn per step: red-flagged samples are drawn but never counted."""
    if valid_rate <= 0.0:
        return math.inf
    return expected_votes(p, k) / valid_rate


# --- bounds on a binomial proportion ------------------------------------------------------------

def _z(confidence: float) -> float:
    """One-sided normal quantile by bisection on erf (no scipy)."""
    lo, hi = 0.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < confidence:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def wilson_lower(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Wilson score lower bound."""
    if n <= 0:
        return 0.0
    z = _z(confidence)
    phat = successes / n
    denom = 1 + z * z / n
    centre = phat + z * z / (2 * n)
    margin = z * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / denom)


def _binom_sf(successes: int, n: int, p: float) -> float:
    """P[X >= successes] for X ~ Binomial(n, p), summed in log space."""
    if successes <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    total = 0.0
    for x in range(successes, n + 1):
        total += math.exp(math.lgamma(n + 1) - math.lgamma(x + 1) - math.lgamma(n - x + 1)
                          + x * lp + (n - x) * lq)
    return min(1.0, total)


def clopper_pearson_lower(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) lower bound: the p at which P[X >= successes] = 1 - conf."""
    if n <= 0 or successes <= 0:
        return 0.0
    alpha = 1.0 - confidence
    if successes == n:
        return float(alpha ** (1.0 / n))  # closed form; the rule of three is its approximation
    lo, hi = 0.0, successes / n
    for _ in range(60):
        mid = (lo + hi) / 2
        if _binom_sf(successes, n, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return lo
