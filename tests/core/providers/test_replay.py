"""The replay provider feeds a recorded session back through the real loop."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, Injected, TextDelta, ToolCallFinished, TurnCancelled
from app.core.agent.session import Session, SessionOptions
from app.core.providers.replay import FINISHED_TEXT, ReplayProvider, ReplayScript, ReplayTools
from app.core.store.session_store import read_session

DEMO = Path(__file__).resolve().parents[3] / "assets" / "demo-session.jsonl"


def test_demo_log_reads_cleanly() -> None:
    read = read_session(DEMO)
    assert read.skipped == 0
    script = ReplayScript.load(DEMO)
    assert script.turns[0].prompt == "Which files are in this folder?"
    assert [len(t.steps) for t in script.turns] == [2, 1, 2, 1]
    assert script.turns[2].steps[0].inject_after == ["Only the first line, please."]
    assert script.turns[3].steps[-1].cancelled


async def test_replay_reproduces_the_recorded_events() -> None:
    recorded = read_session(DEMO).events
    script = ReplayScript.from_events(recorded)
    provider = ReplayProvider(script)
    session = Session(provider, tools=ReplayTools(script), options=SessionOptions())
    got: list[Event] = []
    session.add_listener(got.append)
    provider.on_inject = session.inject
    outcomes = []
    for i in range(len(script.turns)):
        outcomes.append(await session.run_turn(provider.start_turn(i)))
    assert [o.status for o in outcomes] == ["finished", "finished", "finished", "cancelled"]

    def shape(events: list[Event]) -> list[str]:
        return [type(e).__name__ for e in events if not isinstance(e, TextDelta)]

    assert shape(got) == shape(recorded)
    def text(events: list[Event]) -> str:
        return "".join(e.text for e in events if isinstance(e, TextDelta))

    assert text(got) == text(recorded)
    assert [e.content for e in got if isinstance(e, ToolCallFinished)] == [
        e.content for e in recorded if isinstance(e, ToolCallFinished)]
    assert [e.text for e in got if isinstance(e, Injected)] == ["Only the first line, please."]
    cancelled = [e for e in got if isinstance(e, TurnCancelled)]
    assert cancelled and cancelled[0].partial_text.startswith("Here is a long walk")


async def test_past_the_recording_it_says_so() -> None:
    provider = ReplayProvider(ReplayScript())
    session = Session(provider, options=SessionOptions())
    outcome = await session.run_turn("anything")
    assert outcome.text == FINISHED_TEXT
