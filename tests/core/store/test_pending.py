"""Pending steers/queued prompts survive a crash: every change is on disk."""

from __future__ import annotations

from pathlib import Path

from app.core.store.pending import PendingStore


def test_changes_are_written_and_read_back(tmp_path: Path) -> None:
    session_file = tmp_path / "s1.jsonl"
    store = PendingStore.for_session(session_file)
    a = store.add("steer", "look at tests first")
    store.add("queue", "then run them")
    again = PendingStore.for_session(session_file)  # as after a crash
    assert [(i.kind, i.text) for i in again] == [("steer", "look at tests first"),
                                                 ("queue", "then run them")]
    assert store.remove(a.id) is not None
    assert store.convert("steer", "queue") == 0
    assert [i.text for i in PendingStore.for_session(session_file)] == ["then run them"]
    assert store.pop_last() is not None
    assert not (tmp_path / "s1.pending.json").exists()


def test_a_corrupt_file_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "s.pending.json"
    path.write_text("{not json")
    assert len(PendingStore(path)) == 0
    path.write_text('[{"kind": "bogus", "text": "x"}, {"kind": "queue", "text": "ok"}]')
    assert [i.text for i in PendingStore(path)] == ["ok"]


def test_memory_only_store_writes_nothing(tmp_path: Path) -> None:
    store = PendingStore.for_session(None)
    store.add("queue", "x")
    assert len(store) == 1 and list(tmp_path.iterdir()) == []
