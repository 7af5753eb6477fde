"""Snapshots of the traces screen (turns and statistics) and the SKILL.md editor. Update with:
pytest --snapshot-update, then LOOK.

Deterministic: the records carry a fixed time (local noon, 1 January), fixed seconds and ids, and
the edited skill lives at a fixed path (the editor shows it)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from app.core.learning.learner import Learner
from app.core.settings.config import LearningConfig
from app.tui.app import NanobotApp
from app.tui.screens.skill_editor import SkillEditor
from app.tui.screens.traces import TracesScreen
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, scripted_factory

NOON = time.mktime((2026, 1, 1, 12, 0, 0, 0, 1, -1))
SKILL_DIR = Path("/tmp/nanobot-snapshot-skill/release-notes")


def _call(name: str, ok: bool, summary: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args, "ok": ok, "summary": summary, "seconds": 0.2}


def learner_with_turns(tmp_path: Path) -> Learner:
    learner = Learner(LearningConfig(keep_days=0), state_dir=tmp_path / "state",
                      skills_dir=tmp_path / "skills")
    turns = [
        ("t1", "Change TIMEOUT in config.py to 60.", 3, 4.2,
         [_call("read_file", True, "2 lines", path="config.py"),
          _call("edit_file", True, "1 replacement", path="config.py")], "TIMEOUT is 60 now."),
        ("t2", "Change RETRIES in config.py to 9.", 2, 1.1,
         [_call("read_file", True, "2 lines", path="config.py"),
          _call("edit_file", False, "old_text not found", path="config.py")], "Could not."),
        ("t3", "What does hello.py print?", 2, 2.5,
         [_call("exec", True, "exit 0: hello", command="python hello.py")], "It prints hello."),
    ]
    for i, (tid, task, steps, secs, calls, answer) in enumerate(turns):
        category, shape = learner.categorise(task)
        learner.record_turn({"id": tid, "task": task, "category": category, "shape": shape,
                             "calls": calls, "steps": steps, "seconds": secs,
                             "tokens": {"prompt": 900, "completion": 40}, "status": "finished",
                             "answer": answer, "model": "qwen2.5-coder-0.5b",
                             "ts": NOON + 60 * i})
    learner.judge("t1", True, "user")
    learner.judge("t2", False, "next_action", "the user asked again")
    return learner


def laid_out(table: DataTable[Any], rows: int) -> bool:
    """``rows`` rows in, and every column as wide as its widest cell (the table measures new
    rows when idle, so a snapshot taken before that shows the widths of the last table)."""
    if table.row_count != rows:
        return False
    cols = list(table.columns.values())
    cells = [table.get_row_at(r) for r in range(rows)]
    return all(col.content_width >= max(len(str(row[i])) for row in cells)
               for i, col in enumerate(cols))


def app_for(tmp_path: Path) -> NanobotApp:
    factory, _ = scripted_factory(tmp_path)
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False)
    app.session.session_id = "20260101-120000-snap"  # the status bar shows it
    return app


def test_traces_screen(snap_compare: Any, tmp_path: Path) -> None:
    learner = learner_with_turns(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(TracesScreen(learner))
        await until(pilot, lambda: isinstance(pilot.app.screen, TracesScreen) and laid_out(
            pilot.app.screen.query_one("#traces-table", DataTable), 3))
        await pilot.pause()

    assert snap_compare(app_for(tmp_path), terminal_size=(120, 30), run_before=run_before)


def test_traces_screen_statistics(snap_compare: Any, tmp_path: Path) -> None:
    learner = learner_with_turns(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(TracesScreen(learner))
        await until(pilot, lambda: isinstance(pilot.app.screen, TracesScreen) and pilot.app.screen
                    .query_one("#traces-table", DataTable).row_count == 3)
        await pilot.press("s")
        await until(pilot, lambda: "budget" in [
            str(c.label) for c in pilot.app.screen.query_one("#traces-table", DataTable)
            .columns.values()] and laid_out(
                pilot.app.screen.query_one("#traces-table", DataTable), 2))
        await pilot.pause()

    assert snap_compare(app_for(tmp_path), terminal_size=(120, 30), run_before=run_before)


def test_skill_editor(snap_compare: Any, tmp_path: Path) -> None:
    shutil.rmtree(SKILL_DIR.parent, ignore_errors=True)
    SKILL_DIR.mkdir(parents=True)
    path = SKILL_DIR / "SKILL.md"
    path.write_text("---\nname: release-notes\ndescription: Write release notes from the git log "
                    "since the last tag.\n---\n1. Run `git describe --tags --abbrev=0`.\n"
                    "2. Group the commits into Features, Fixes and Other.\n")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(SkillEditor(path))
        await until(pilot, lambda: isinstance(pilot.app.screen, SkillEditor) and "release-notes"
                    in pilot.app.screen.query_one("#skill-text", TextArea).text)
        await pilot.pause()

    assert snap_compare(app_for(tmp_path), terminal_size=(100, 24), run_before=run_before)
