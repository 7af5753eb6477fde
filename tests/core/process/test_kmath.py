"""The k formula and its companions against the MAKER paper's numbers (algorithms.md §0-1)."""

from __future__ import annotations

import pytest

from app.core.process import kmath

S20 = 2 ** 20 - 1

# (p, k_min, p_full, E[votes/step], total calls in millions) for s = 2^20 - 1, t = 0.95
TABLE = [
    (0.9978, 3, 0.989, 3.0, 3.2),
    (0.99, 4, 0.989, 4.1, 4.3),
    (0.9642, 6, 0.997, 6.5, 6.8),
    (0.90, 8, 0.976, 10.0, 10.5),
    (0.80, 13, 0.985, 21.7, 22.7),
    (0.70, 20, 0.955, 50.0, 52.0),  # the paper rounds this one to whole millions
]


@pytest.mark.parametrize(("p", "k", "p_full", "votes", "calls_m"), TABLE)
def test_k_min_matches_the_papers_table(p: float, k: int, p_full: float, votes: float,
                                        calls_m: float) -> None:
    assert kmath.k_min(p, S20, 0.95) == k
    assert kmath.task_success(p, k, S20) == pytest.approx(p_full, abs=0.0015)
    assert kmath.expected_votes(p, k) == pytest.approx(votes, abs=0.051)
    assert S20 * kmath.expected_votes(p, k) / 1e6 == pytest.approx(calls_m, abs=0.5)


# The paper's per-model table (1 - p per model, k_min for 20 disks at t = 0.95).
@pytest.mark.parametrize(("error", "k"), [
    (0.3571, 29), (0.0040, 4), (0.0022, 3), (0.0018, 3), (0.1839, 12), (0.0358, 6),
    (0.2342, 15), (0.0569, 6), (0.0393, 6)])
def test_k_min_matches_the_per_model_table(error: float, k: int) -> None:
    assert kmath.k_min(1 - error, S20, 0.95) == k


def test_k_min_is_the_smallest_margin_that_reaches_the_target() -> None:
    for p in (0.6, 0.75, 0.95, 0.999):
        k = kmath.k_min(p, 1023, 0.95)
        assert kmath.task_success(p, k, 1023) >= 0.95
        if k > 1:
            assert kmath.task_success(p, k - 1, 1023) < 0.95


def test_no_go_at_or_below_one_half() -> None:
    for p in (0.5, 0.3, 0.0):
        with pytest.raises(kmath.NoGo):
            kmath.k_min(p, 1000)
    with pytest.raises(ValueError):
        kmath.k_min(0.9, 0)
    with pytest.raises(ValueError):
        kmath.k_min(0.9, 100, target=1.0)


def test_expected_samples_divide_by_the_valid_rate() -> None:
    assert kmath.expected_samples(0.99, 4, 0.5) == pytest.approx(2 * kmath.expected_votes(0.99, 4))
    assert kmath.expected_samples(0.99, 4, 0.0) == float("inf")


def test_step_success_is_the_two_way_race_formula() -> None:
    assert kmath.step_success(0.9, 3) == pytest.approx(1 / (1 + (0.1 / 0.9) ** 3))
    assert kmath.step_success(1.0, 3) == 1.0 and kmath.step_success(0.0, 3) == 0.0


def test_clopper_pearson_lower_bounds_match_known_values() -> None:
    # Beta(95, 6) 5% quantile and Beta(5, 6) 5% quantile.
    assert kmath.clopper_pearson_lower(95, 100) == pytest.approx(0.8977, abs=2e-4)
    assert kmath.clopper_pearson_lower(5, 10) == pytest.approx(0.2224, abs=2e-4)
    # All successes: alpha^(1/n); the rule of three says about 1 - 3/n.
    assert kmath.clopper_pearson_lower(1000, 1000) == pytest.approx(0.05 ** (1 / 1000))
    assert kmath.clopper_pearson_lower(1000, 1000) == pytest.approx(1 - 3 / 1000, abs=2e-4)
    assert kmath.clopper_pearson_lower(0, 10) == 0.0


def test_wilson_is_below_the_point_estimate_and_tightens_with_n() -> None:
    small = kmath.wilson_lower(9, 10)
    large = kmath.wilson_lower(900, 1000)
    assert small < large < 0.9
    assert kmath.wilson_lower(95, 100) == pytest.approx(0.9008, abs=5e-4)
