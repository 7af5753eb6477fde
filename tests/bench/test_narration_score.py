"""The narration scorer of bench/narration.py on a hand-made session log."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import MessageAdded, TurnStarted
from app.core.agent.messages import Message, ToolCall
from app.core.store.session_store import SessionStore
from bench.narration import score_log


def step(text: str, n_calls: int = 1) -> MessageAdded:
    calls = tuple(ToolCall(f"c{i}", "read_file", {"path": "x"}) for i in range(n_calls))
    return MessageAdded("t", Message(role="assistant", content=text, tool_calls=calls))


def test_score_counts_batches_narration_and_the_longest_silent_run(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path)
    store.append(TurnStarted("t1", text="go"))
    for ev in (step("Reading the parser."), step(""), step(""), step("", 2), step("Now the store."),
               MessageAdded("t", Message(role="assistant", content="Done."))):
        store.append(ev)
    store.append(TurnStarted("t2", text="again"))
    store.append(step(""))
    store.append(step("", 1), worker="w1")  # a worker's step is not the session's
    store.close()
    score = score_log(store.path, "demo")
    assert (score.batches, score.narrated, score.longest_silent) == (6, 2, 3)
    assert score.first_half == 1 / 3 and score.second_half == 1 / 3
    assert round(score.compliance, 3) == 0.333
