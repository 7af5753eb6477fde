"""Session files under odd records, damaged bytes, two writers and failing writes (real files)."""

from __future__ import annotations

import json
import resource
import signal
from pathlib import Path

import pytest

from app.core.agent.events import Notice, SessionStarted, TurnStarted, to_record
from app.core.agent.session import Session
from app.core.providers.scripted import ScriptedProvider
from app.core.store.event_log import EventLog, LogInUseError
from app.core.store.session_store import SessionStore, list_sessions, read_session
from app.runtime.sessions import find_session


def _session(directory: Path, sid: str, *records: dict[str, object]) -> Path:
    path = directory / f"{sid}.jsonl"
    log = EventLog(path)
    for rec in records:
        log.append_record(rec)
    log.close()
    return path


def test_a_blank_prompt_or_an_odd_record_never_breaks_the_listing(tmp_path: Path) -> None:
    _session(tmp_path, "20260101-000000-aaaaaa",
             to_record(SessionStarted("", session_id="a", model="m", provider="p")),
             to_record(TurnStarted("t1", text="  \n \n", model="m")))
    _session(tmp_path, "20260102-000000-bbbbbb",
             {"type": "SessionStarted", "ts": "yesterday", "title": 5, "model": None},
             {"type": "TurnStarted", "text": ["not", "a", "string"]},
             {"type": "TurnStarted", "text": "\n\nsecond line is the title\n"})
    infos = {i.session_id: i for i in list_sessions(tmp_path)}
    assert infos["20260101-000000-aaaaaa"].title == "(empty)"
    assert infos["20260101-000000-aaaaaa"].turns == 1
    assert infos["20260102-000000-bbbbbb"].title == "second line is the title"
    assert find_session("", tmp_path) is not None
    assert find_session("20260101", tmp_path).session_id == "20260101-000000-aaaaaa"  # type: ignore[union-attr]


def test_an_ambiguous_prefix_is_named_as_such(tmp_path: Path) -> None:
    for sid in ("20260101-000000-aaaaaa", "20260101-000001-bbbbbb"):
        _session(tmp_path, sid, {"type": "TurnStarted", "text": "hi"})
    with pytest.raises(LookupError, match=r"ambiguous.*2 sessions"):
        find_session("20260101", tmp_path)
    assert find_session("nope", tmp_path) is None


def test_invalid_utf8_in_a_record_is_reported_as_damage(tmp_path: Path) -> None:
    path = _session(tmp_path, "s", to_record(TurnStarted("t1", text="hello", model="m")))
    good = path.read_bytes()
    bad = json.dumps({"seq": 2, "type": "TurnStarted", "turn_id": "t2", "text": "X",
                      "model": "m"}).encode().replace(b'"X"', b'"\xff\xfe"')
    path.write_bytes(good + bad + b"\n")
    result = read_session(path)
    assert result.skipped == 1 and result.skipped_lines == [2]
    assert [type(e).__name__ for e in result.events] == ["TurnStarted"]
    assert path.read_bytes() == good + bad + b"\n"  # reading changes nothing


def test_a_second_writer_is_refused_and_the_first_keeps_writing(tmp_path: Path) -> None:
    path = _session(tmp_path, "s", {"type": "TurnStarted", "text": "hi"})
    first = SessionStore(path)  # an existing file is claimed at once
    with pytest.raises(LogInUseError, match="open in another Nanobot process"):
        SessionStore(path)
    first.append(Notice("t", "still mine"))
    first.close()
    again = SessionStore(path)  # free once the first one closed
    again.close()
    seqs = [json.loads(line)["seq"] for line in path.read_text().splitlines()]
    assert seqs == [1, 2]


def _fsize_limit(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


async def test_a_full_disk_keeps_whole_records_and_says_so_once(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    session = Session(ScriptedProvider([" ".join(f"word{i}" for i in range(200))]),
                      store=SessionStore(path))
    seen: list[object] = []
    session.add_listener(seen.append)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.getsignal(signal.SIGXFSZ)
    _fsize_limit(3000)  # this process may write no file past 3000 bytes: EFBIG, as on a full disk
    try:
        outcome = await session.run_turn("write a lot")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    session.store.close()  # type: ignore[union-attr]
    assert outcome.status == "finished"
    notices = [e for e in seen if isinstance(e, Notice) and "can no longer be saved" in e.text]
    assert len(notices) == 1 and "File too large" in notices[0].text
    data = path.read_bytes()
    assert 0 < len(data) <= 3000 and data.endswith(b"\n")
    assert all(json.loads(line) for line in data.splitlines())  # whole records only
    assert session.store_error


async def test_a_first_write_that_fails_leaves_no_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    session = Session(ScriptedProvider(["short"]), store=SessionStore(path))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.getsignal(signal.SIGXFSZ)
    _fsize_limit(0)
    try:
        outcome = await session.run_turn("hi")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    session.store.close()  # type: ignore[union-attr]  # nothing to flush: no traceback here
    assert outcome.status == "finished" and outcome.text == "short"
    assert not path.exists()
    assert session.store_error
