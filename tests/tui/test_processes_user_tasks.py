"""User tasks in the process view (F6) and in ``process status``, like the built-in ones."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import DataTable, Static

from app.core.providers.scripted import ScriptedProvider
from app.tui.app import NanobotApp
from app.tui.screens.processes import ProcessesScreen
from tests.cli.test_cli import ROOT, nanobot
from tests.core.process.test_job_task import _job
from tests.pilot_wait import until
from tests.tui.harness import make_factory


async def test_f6_shows_a_task_file_and_a_job_like_built_in_tasks(tmp_path: Path,
                                                                  nanobot_home: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(ROOT / "docs" / "examples" / "running_sum.py", mine / "running_sum.py")
    ran = nanobot("process", "run", "--task", "running_sum.py:TASK", "--param", "count=400",
                  "--sampler-from", "running_sum.py:simulated_model", "--k", "4",
                  "--max-steps", "100", "--id", "sum-a", cwd=mine)
    assert ran.returncode == 5, ran.stderr  # paused by its budget at step 100 of 400
    toml = _job(tmp_path, 40)
    job = nanobot("process", "run", "--task-file", str(toml), "--sampler-from",
                  f"{tmp_path / 'sim_model.py'}:make", "--k", "2", "--id", "sum-b")
    assert job.returncode == 0, job.stderr

    app = NanobotApp(make_factory(tmp_path, ScriptedProvider()))
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, ProcessesScreen)
                    and app.screen.query_one(DataTable).row_count == 2, what="two rows")
        screen = app.screen
        table = screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == {"sum-a", "sum-b"}
        assert str(rows["sum-a"][1]) == "paused" and rows["sum-a"][2].endswith("25.0%")
        assert str(rows["sum-b"][1]) == "finished" and rows["sum-b"][2].endswith("100.0%")
        assert rows["sum-a"][6] == "4"  # k
        await pilot.press("home")

        def detail() -> str:
            return str(screen.query_one("#process-detail", Static).render())

        await until(pilot, lambda: "sum-a" in detail(), what="the detail of sum-a")
        text = detail()
        assert "running-sum" in text and f"from      {mine / 'running_sum.py'}:TASK" in text
        assert "100 of 400" in text and "process resume sum-a" in text

        # the job: its file is a parameter; a built-in task's name needs no "from" line
        await pilot.press("down")
        await until(pilot, lambda: "process sum-b" in detail(), what="the detail of sum-b")
        text = detail()
        assert f"'file': '{toml}'" in text and "40 of 40" in text
        assert "from " not in text
        # a refresh keeps the selected row, and escape goes back to the chat
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: "process sum-b" in detail(), what="sum-b still selected")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ProcessesScreen),
                    what="the view to close")
