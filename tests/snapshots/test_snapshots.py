"""Snapshot tests (pytest-textual-snapshot). Update with: pytest --snapshot-update."""

from __future__ import annotations

from pathlib import Path

from app.core.providers.scripted import ScriptedProvider
from app.core.session import Session, SessionOptions
from app.tui import NanobotApp


def test_empty_screen(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = Session(ScriptedProvider(model="qwen2.5-coder-0.5b"),
                      options=SessionOptions(workspace=tmp_path))
    assert snap_compare(NanobotApp(session), terminal_size=(80, 24))
