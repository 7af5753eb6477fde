"""Pure pieces of the UI: block boundaries, delta batching, rebuilding a view from events."""

from __future__ import annotations

from app.core.agent.events import (
    Notice,
    ReasoningDelta,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnStarted,
)
from app.tui.bridge import merge_deltas
from app.tui.transcript import blocks_from_events
from widgets.markdown_split import BlockBoundaries


def test_boundaries_skip_fences_and_indented_continuations() -> None:
    text = "para\n\n```\ncode\n\nmore code\n```\n\n- item\n\n  continued\n\n# Head\n"
    cuts = BlockBoundaries().feed(text)
    assert [text[c:c + 6] for c in cuts] == ["```\nco", "- item", "# Head"]


def test_boundaries_work_across_pieces() -> None:
    text = "one\n\ntwo\n\n```\nx\n\ny\n```\n\nthree"
    b = BlockBoundaries()
    found = []
    for i in range(len(text)):  # one character at a time
        found += [i + c for c in b.feed(text[i])]
    assert found == BlockBoundaries().feed(text)


def test_merge_deltas_joins_runs_and_keeps_order() -> None:
    evs = [TextDelta("t", "a"), TextDelta("t", "b"), ReasoningDelta("t", "r"),
           ReasoningDelta("t", "s"), TextDelta("t", "c"), Notice("t", "n"), TextDelta("u", "d")]
    out = merge_deltas(evs)
    assert [(type(e).__name__, getattr(e, "text", "")) for e in out] == [
        ("TextDelta", "ab"), ("ReasoningDelta", "rs"), ("TextDelta", "c"), ("Notice", "n"),
        ("TextDelta", "d")]


def test_blocks_from_events_rebuilds_blocks_and_marks_a_cut_off_turn() -> None:
    evs = [TurnStarted("t1", "hi"), ReasoningDelta("t1", "hmm"), TextDelta("t1", "hel"),
           TextDelta("t1", "lo"), ToolCallStarted("t1", "c", "list_dir", {"path": "."}),
           ToolCallFinished("t1", "c", "list_dir", "[cancelled by user]", is_error=True),
           TurnCancelled("t1", "hello"), TurnStarted("t2", "again"), TextDelta("t2", "par")]
    blocks = blocks_from_events(evs)
    assert [(b.kind, b.text[:10]) for b in blocks] == [
        ("user", "hi"), ("thinking", "hmm"), ("assistant", "hello"), ("tool", "[cancelled"),
        ("notice", "cancelled "), ("user", "again"), ("assistant", "par"),
        ("notice", "the sessio")]
    assert blocks[3].status == "cancelled" and blocks[6].cancelled
    assert not any(b.streaming for b in blocks)
