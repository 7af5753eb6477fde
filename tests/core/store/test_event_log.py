"""The event log on real files: seq, flush per record, rotation, spans, backwards tails, damage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.agent.events import Event, MessageAdded, TurnStarted, register_event
from app.core.agent.messages import Message
from app.core.store.event_log import (
    EventLog,
    ReadStats,
    iter_log,
    iter_log_backwards,
    read_span,
    segments,
    tail,
)
from app.core.store.session_store import SessionStore, list_sessions, read_session


def test_records_get_increasing_seq_and_are_flushed_per_record(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "s.jsonl")
    seqs = [log.append_record({"type": "X", "i": i}) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5] and log.last_seq == 5
    # Nothing is buffered: another reader sees every record while the writer is still open.
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3, 4, 5]
    assert next(iter(json.loads(lines[0]))) == "seq"


def test_rotation_by_size_keeps_seq_and_one_listed_file(tmp_path: Path) -> None:
    path = tmp_path / "sess.jsonl"
    log = SessionStore(path, max_bytes=300)
    for i in range(40):
        log.append(TurnStarted(f"t{i}", text="x" * 20))
    log.close()
    segs = segments(path)
    assert len(segs) > 3 and segs[-1] == path
    assert all(s.name.startswith("sess.jsonl.") for s in segs[:-1])
    # An archive is named by its first seq, and seq runs on across files without a gap.
    seqs = [ln.seq for ln in iter_log(path)]
    assert seqs == list(range(1, 41))
    assert int(segs[1].name.rsplit(".", 1)[1]) == json.loads(segs[1].read_text().splitlines()[0])[
        "seq"]
    assert [i.session_id for i in list_sessions(tmp_path)] == ["sess"]
    assert len(read_session(path).events) == 40


def test_span_reads_across_segments(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    log = EventLog(path, max_bytes=200)
    for i in range(30):
        log.append_record({"type": "X", "i": i})
    assert [r["i"] for r in read_span(path, 7, 19)] == list(range(6, 19))
    assert [r["seq"] for r in read_span(path, 30)] == [30]
    assert read_span(path, 31, 40) == []


def test_tail_reads_backwards_without_reading_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    log = EventLog(path)
    for i in range(2000):
        log.append_record({"type": "A" if i % 2 else "B", "i": i, "pad": "p" * 100})
    assert [r["i"] for r in tail(path, 3)] == [1997, 1998, 1999]
    assert [r["i"] for r in tail(path, 2, kind="B")] == [1996, 1998]
    newest = iter_log_backwards(path)
    assert next(newest).record["i"] == 1999  # a generator: only the last block was read


def test_torn_and_corrupt_lines_are_skipped_and_counted_then_writing_resumes(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    log = EventLog(path)
    log.append_record({"type": "X", "i": 0})
    log.append_record({"type": "X", "i": 1})
    log.close()
    with open(path, "a") as fh:
        fh.write("not json at all\n")
        fh.write('{"seq": 3, "type": "X", "i"')  # killed mid-write
    stats = ReadStats()
    assert [ln.record["i"] for ln in iter_log(path, stats)] == [0, 1]
    assert stats.skipped == 2 and stats.skipped_at == [("s.jsonl", 3), ("s.jsonl", 4)]
    back = ReadStats()
    assert [ln.record["i"] for ln in iter_log_backwards(path, back)] == [1, 0]
    assert back.skipped == 2
    again = EventLog(path)
    assert again.append_record({"type": "X", "i": 2}) == 3  # seq continues after the last good one
    again.close()
    stats = ReadStats()
    assert [ln.record["i"] for ln in iter_log(path, stats)] == [0, 1, 2] and stats.skipped == 2


@register_event
@dataclass(frozen=True)
class _Snapshot(Event):
    persist: ClassVar[bool] = False
    value: int = 0


def test_worker_records_and_live_snapshots_stay_out_of_the_session_history(tmp_path: Path) -> None:
    store = SessionStore.create(tmp_path)
    store.append(MessageAdded("t1", Message(role="user", content="root")))
    store.append(MessageAdded("w", Message(role="user", content="worker task")), worker="w1")
    assert store.append(_Snapshot("", value=3)) == 0
    store.close()
    own = read_session(store.path)
    assert [e.message.content for e in own.events if isinstance(e, MessageAdded)] == ["root"]
    worker = read_session(store.path, worker="w1")
    assert [e.message.content for e in worker.events if isinstance(e, MessageAdded)] == [
        "worker task"]
    assert "_Snapshot" not in store.path.read_text()


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60),
       max_bytes=st.integers(min_value=50, max_value=2000))
def test_any_rotation_reads_back_in_order(sizes: list[int], max_bytes: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.jsonl"
        log = EventLog(path, max_bytes=max_bytes)
        for n in sizes:
            log.append_record({"type": "X", "pad": "é" * n})
        log.close()
        assert [ln.seq for ln in iter_log(path)] == list(range(1, len(sizes) + 1))
        assert [ln.seq for ln in iter_log_backwards(path)] == list(range(len(sizes), 0, -1))
        mid = (len(sizes) + 1) // 2
        assert [r["seq"] for r in read_span(path, mid, len(sizes))] == list(
            range(mid, len(sizes) + 1))
