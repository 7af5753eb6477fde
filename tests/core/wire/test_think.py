from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.wire.think import ThinkSplitter


def run(pieces: list[str]) -> tuple[str, str]:
    s = ThinkSplitter()
    vis, rea = [], []
    for p in pieces:
        v, r = s.feed(p)
        vis.append(v)
        rea.append(r)
    v, r = s.flush()
    return "".join(vis) + v, "".join(rea) + r


def test_split_across_deltas() -> None:
    assert run(["<th", "ink>plan", " it</thi", "nk>Answer"]) == ("Answer", "plan it")
    assert run(["<thinking>x</thinking>y"]) == ("y", "x")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abc <>/", max_size=40), st.text(alphabet="abc ", max_size=20),
       st.lists(st.integers(1, 6), max_size=15))
def test_any_split_gives_same_result(pre: str, thought: str, cuts: list[int]) -> None:
    text = f"<think>{thought}</think>{pre}"
    pieces, pos = [], 0
    for c in cuts:
        pieces.append(text[pos:pos + c])
        pos += c
    pieces.append(text[pos:])
    assert run(pieces) == run([text])
