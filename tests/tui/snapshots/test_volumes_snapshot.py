"""Snapshot of the volumes screen. Update with: pytest --snapshot-update."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.context_store import dense_status
from app.core.context_store.ingest import ingest
from app.core.context_store.store import default_root
from app.core.providers.scripted import ScriptedProvider
from app.tui.app import NanobotApp
from tests.tui.harness import make_factory

# Sources are shown on screen: a fixed directory keeps the snapshot the same on every run.
FIXED = Path("/tmp/nanobot-snapshot-volumes")


def test_volumes_screen(snap_compare, tmp_path: Path,  # type: ignore[no-untyped-def]
                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The screen says whether the optional semantic extra is installed: pin it to "not".
    monkeypatch.setattr(dense_status, "available", lambda: False)
    shutil.rmtree(FIXED, ignore_errors=True)
    (FIXED / "project" / "src").mkdir(parents=True)
    (FIXED / "project" / "src" / "main.py").write_text("def main():\n    return 42\n")
    (FIXED / "project" / "README.md").write_text("# Project\nRun it with make.\n")
    (FIXED / "project" / "logo.png").write_bytes(b"\x89PNG\x00\x00" * 10)
    ingest([FIXED / "project"], "project", default_root())
    factory = make_factory(tmp_path, ScriptedProvider(model="qwen2.5-coder-0.5b"))

    async def open_volumes(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("ctrl+o")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(NanobotApp(factory), terminal_size=(90, 24), run_before=open_volumes)
