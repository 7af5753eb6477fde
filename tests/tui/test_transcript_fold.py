"""The one fold from core events to conversation blocks (app/tui/transcript.py)."""

from __future__ import annotations

from app.core.agent.events import (
    Event,
    Injected,
    Notice,
    ReasoningDelta,
    ReplyRestarted,
    ReplySteered,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from app.tui.transcript import ListSink, TranscriptFold, blocks_from_events
from widgets.blocks import Block


def shape(blocks: list[Block]) -> list[tuple[str, str, str]]:
    return [(b.kind, b.text, b.ended or b.status or b.level) for b in blocks]


def test_a_notice_mid_reply_goes_after_it_and_never_splits_a_word() -> None:
    evs: list[Event] = [TurnStarted("t", "count"), TextDelta("t", "one two three, c"),
                        Notice("t", "[worker w1 'counter' finished in 1s]"),
                        TextDelta("t", "ounting slowly"), TurnFinished("t", "")]
    blocks = blocks_from_events(evs)
    assert shape(blocks) == [
        ("user", "count", "info"), ("assistant", "one two three, counting slowly", "info"),
        ("notice", "[worker w1 'counter' finished in 1s]", "info")]


def test_a_steered_reply_is_kept_and_marked_and_the_steer_follows() -> None:
    evs: list[Event] = [TurnStarted("t", "write"), TextDelta("t", "Once upon"),
                        ReplySteered("t", "Once upon"), Injected("t", "make it short"),
                        TextDelta("t", "Short."), TurnFinished("t", "Short.")]
    assert shape(blocks_from_events(evs)) == [
        ("user", "write", "info"), ("assistant", "Once upon", "steered"),
        ("steer", "make it short", "info"), ("assistant", "Short.", "info")]


def test_late_events_of_a_closed_turn_are_dropped() -> None:
    evs: list[Event] = [TurnStarted("t", "q"), TextDelta("t", "par"), TurnCancelled("t", "par"),
                        TextDelta("t", "tial"), Notice("t", "late")]
    blocks = blocks_from_events(evs)
    assert shape(blocks) == [("user", "q", "info"), ("assistant", "par", "cancelled"),
                             ("notice", "cancelled — the partial reply is kept", "cancelled")]


def test_tools_thinking_restarts_and_failures() -> None:
    evs: list[Event] = [
        TurnStarted("t", "q"), ReasoningDelta("t", "let me "), ReasoningDelta("t", "look"),
        ToolCallStarted("t", "c1", "read_file", {"path": "a"}, label="Read a"),
        ToolCallFinished("t", "c1", "read_file", "line\n" * 5, duration=2.0),
        TextDelta("t", "first try"), ReplyRestarted("t", "provider down"),
        TextDelta("t", "second"), TurnFailed("t", "boom")]
    blocks = blocks_from_events(evs)
    assert [b.kind for b in blocks] == ["user", "thinking", "tool", "assistant", "assistant",
                                        "notice"]
    thinking, tool = blocks[1], blocks[2]
    assert thinking.text == "let me look" and not thinking.streaming
    assert tool.status == "ok" and tool.label == "Read a" and tool.duration == 2.0
    assert blocks[3].ended == "interrupted" and blocks[4].text == "second"
    # A draft the answer check withdrew is marked as such, not as a provider's failure.
    checked = blocks_from_events([
        TurnStarted("t", "q"), TextDelta("t", "It is 10."),
        ReplyRestarted("t", "answer not supported by what was read: 10", withdrawn=True),
        TextDelta("t", "It is 37."), TurnFinished("t", "It is 37.")])
    assert [b.ended for b in checked if b.kind == "assistant"] == ["withdrawn", ""]
    assert blocks[5].level == "error" and "boom" in blocks[5].text


def test_a_tool_badge_is_taken_from_the_event_when_the_core_reports_one() -> None:
    class Voted(ToolCallFinished):
        vote = "3/3 agree"

    blocks = blocks_from_events([TurnStarted("t", "q"), ToolCallStarted("t", "c", "ls", {}),
                                 Voted("t", "c", "ls", "ok"), TurnFinished("t", "")])
    assert blocks[1].badge == "3/3 agree"


def test_live_and_resume_give_the_same_blocks() -> None:
    evs: list[Event] = [TurnStarted("t", "q"), TextDelta("t", "a"), Notice("t", "n"),
                        TextDelta("t", "b"), ToolCallStarted("t", "c", "ls", {}),
                        ToolCallFinished("t", "c", "ls", "x"), TextDelta("t", "done"),
                        TurnFinished("t", "")]
    live = ListSink()
    fold = TranscriptFold(live)
    changes: list[str] = []
    live.changed = lambda block: changes.append(block.kind)  # type: ignore[method-assign]
    for ev in evs:
        fold.apply(ev)
    assert shape(live.blocks) == shape(blocks_from_events(evs))
    assert changes.count("assistant") >= 3  # every delta reports the reply as changed
