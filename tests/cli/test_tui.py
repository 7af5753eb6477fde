"""``nanobot --resume/--continue/--replay`` refuse bad input with a clear message (exit 2)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import nanobot


def test_resume_unknown_id_and_continue_without_sessions(nanobot_home: Path) -> None:
    proc = nanobot("--resume", "nope")
    assert proc.returncode == 2 and "no saved session matches 'nope'" in proc.stderr
    proc = nanobot("--continue")
    assert proc.returncode == 2 and "no saved sessions yet" in proc.stderr


def test_replay_of_a_missing_or_empty_file(tmp_path: Path) -> None:
    proc = nanobot("--replay", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2 and "no such replay file" in proc.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not json\n")
    proc = nanobot("--replay", str(empty))
    assert proc.returncode == 2 and "no recorded turns (1 unreadable line(s))" in proc.stderr
