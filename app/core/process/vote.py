"""First-to-ahead-by-k voting on canonical answers (MAKER's do_voting), exactly.

A candidate wins when its count reaches the best other candidate's count plus k; with a single
candidate that means reaching k. Only counted votes enter the tally: a red-flagged sample never does.
There is no plurality fallback anywhere in this module.
"""

from __future__ import annotations


class Tally:
    __slots__ = ("counts", "k", "winner")

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        self.counts: dict[str, int] = {}
        self.winner: str | None = None

    def add(self, key: str) -> bool:
        """Count one vote for ``key``; True when that vote decides the race."""
        if self.winner is not None:
            raise RuntimeError("the vote is already decided")
        counts = self.counts
        mine = counts.get(key, 0) + 1
        counts[key] = mine
        # Only the candidate that just gained a vote can have become the winner.
        best_other = 0
        for other, n in counts.items():
            if other != key and n > best_other:
                best_other = n
        if mine >= best_other + self.k:
            self.winner = key
            return True
        return False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def leader_margin(self) -> tuple[int, int]:
        """(leader's count, best other count)."""
        ordered = sorted(self.counts.values(), reverse=True)
        first = ordered[0] if ordered else 0
        second = ordered[1] if len(ordered) > 1 else 0
        return first, second

    def needed(self) -> int:
        """The fewest further votes that could decide the race: the leader's missing margin.

        Launching exactly this many samples at once cannot overshoot: no candidate can win before
        the last of them is counted, so counting them in order stays first-to-ahead-by-k.
        """
        if self.winner is not None:
            return 0
        first, second = self.leader_margin()
        return max(1, second + self.k - first)
