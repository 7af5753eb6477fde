"""First-to-ahead-by-k on canonical answers: the exact rule, no plurality."""

from __future__ import annotations

import pytest

from app.core.process.vote import Tally


def test_single_candidate_wins_on_reaching_k() -> None:
    t = Tally(3)
    assert not t.add("a")
    assert not t.add("a")
    assert t.add("a")
    assert t.winner == "a"


def test_a_winner_must_lead_the_best_other_by_k() -> None:
    t = Tally(2)
    assert [t.add(x) for x in ("a", "b", "a", "b", "a")] == [False] * 5
    assert t.counts == {"a": 3, "b": 2}
    assert t.add("a")  # 4 vs 2
    assert t.winner == "a"


def test_ties_never_decide() -> None:
    t = Tally(1)
    t.add("a")
    assert t.winner == "a"  # k = 1: the first vote leads an empty field by 1
    t = Tally(2)
    for x in ("a", "b", "c", "a", "b", "c"):
        assert not t.add(x)
    assert t.winner is None
    assert t.leader_margin() == (2, 2)


def test_the_margin_is_against_the_best_other_not_the_sum_of_others() -> None:
    t = Tally(2)
    for x in ("b", "c", "a", "a"):
        t.add(x)
    assert t.winner is None  # a=2, best other 1: margin 1
    assert t.add("a")  # 3 vs 1 (b and c together have 2, which does not matter)


def test_needed_is_the_leaders_missing_margin() -> None:
    t = Tally(4)
    assert t.needed() == 4
    t.add("a")
    t.add("a")
    assert t.needed() == 2
    t.add("b")
    assert t.needed() == 3
    t.add("b")
    t.add("b")
    assert t.needed() == 3  # b leads 3-2: it needs 2 + 4 - 3
    with pytest.raises(ValueError):
        Tally(0)


def test_no_vote_after_the_decision() -> None:
    t = Tally(1)
    t.add("a")
    with pytest.raises(RuntimeError):
        t.add("b")
