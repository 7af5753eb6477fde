from __future__ import annotations

import json
from pathlib import Path

from app.core.agent.events import (
    MessageAdded,
    SessionStarted,
    TextDelta,
    ToolCallStarted,
    TurnFinished,
    TurnStarted,
    from_record,
    to_record,
)
from app.core.agent.messages import Message, ToolCall
from app.core.store.session_store import (
    SessionStore,
    history_from_events,
    list_sessions,
    read_session,
)


def test_events_round_trip() -> None:
    msg = Message(role="assistant", content="x", tool_calls=(ToolCall("c", "read_file",
                                                                        {"path": "a"}),))
    for ev in (MessageAdded("t1", msg), TextDelta("t1", "hi"),
               ToolCallStarted("t1", call_id="c", name="n", arguments={"a": 1}, label="L")):
        rec = json.loads(json.dumps(to_record(ev)))
        assert from_record(rec) == ev


def test_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path)
    store.append(SessionStarted("", session_id="s", model="m", provider="p"))
    store.append(TurnStarted("t1", text="hello there"))
    store.append(MessageAdded("t1", Message(role="user", content="hello there")))
    store.append(TextDelta("t1", "partial ans"))
    store.close()
    with open(store.path, "a") as fh:
        fh.write('{"type": "TextDelta", "turn_id": "t1", "te')  # killed mid-write
    size = store.path.stat().st_size
    result = read_session(store.path)
    assert result.skipped == 1 and result.skipped_lines == [5]
    history = history_from_events(result.events)
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[-1].content == "partial ans" and history[-1].cancelled
    assert store.path.stat().st_size == size  # reading never rewrites

    # A new writer starts on a fresh line, so the torn record stays isolated.
    again = SessionStore(store.path)
    again.append(TurnFinished("t1", text="done"))
    again.close()
    assert read_session(store.path).skipped == 1


def test_list_sessions_titles(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path)
    store.append(SessionStarted("", session_id="s", model="qwen", provider="local"))
    store.append(TurnStarted("t1", text="Fix the parser\nplease"))
    store.close()
    infos = list_sessions(tmp_path)
    assert infos[0].title == "Fix the parser" and infos[0].model == "qwen" and infos[0].turns == 1
