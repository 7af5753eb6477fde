"""The process view: opens with F6, lists processes from disk, follows their progress."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from app.core.process.recovery import new_counters
from app.core.process.store import Checkpoint
from app.core.providers.scripted import ScriptedProvider
from app.tui.app import NanobotApp
from app.tui.screens.processes import ProcessesScreen, progress_bar
from tests.tui.harness import make_factory
from tests.tui.process_fixtures import make_process, three_processes


def _app(tmp_path: Path) -> NanobotApp:
    return NanobotApp(make_factory(tmp_path, ScriptedProvider()))


async def test_f6_opens_the_process_view_and_escape_closes_it(tmp_path: Path,
                                                              nanobot_home: Path) -> None:
    three_processes(nanobot_home)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.press("f6")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProcessesScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        rows = [table.get_row_at(i) for i in range(3)]
        assert [r[0] for r in rows] == ["hanoi-a-finished", "hanoi-b-interrupted",
                                        "hanoi-c-paused"]
        assert [str(r[1]) for r in rows] == ["finished", "interrupted", "paused"]
        assert rows[1][2].endswith("25.0%") and rows[1][4] == "4.08"  # progress, samples/step
        detail = str(screen.query_one("#process-detail", Static).render())
        assert "hanoi-a-finished" in detail
        await pilot.press("down")
        await pilot.pause()
        detail = str(screen.query_one("#process-detail", Static).render())
        assert "process resume hanoi-b-interrupted" in detail
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ProcessesScreen)


async def test_processes_started_elsewhere_are_announced_when_the_app_opens(
        tmp_path: Path, nanobot_home: Path) -> None:
    three_processes(nanobot_home)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("2 process(es) (0 running): F6" in m for m in notes), notes


async def test_the_view_follows_a_process_as_it_advances(tmp_path: Path,
                                                         nanobot_home: Path) -> None:
    root = nanobot_home / "data" / "processes"
    store = make_process(root, "live", disks=10, step=100, status="running", samples=400,
                         flagged=0, active_s=10.0)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 32)) as pilot:
        app.push_screen(ProcessesScreen(poll_seconds=0))
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.get_row_at(0)[2].endswith("9.8%")
        store.write_checkpoint(Checkpoint(step=512, state=[list(range(10, 0, -1)), [], []],
                                          prev=None, chain="", log_offset=0, log_line=0,
                                          counters={**new_counters(), "samples": 2100,
                                                    "active_s": 40.0}, k=4), None)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.get_row_at(0)[2].endswith("50.0%")
        assert str(table.get_row_at(0)[1]) == "interrupted"  # nobody holds its run lock
        store.lock()
        try:
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert str(table.get_row_at(0)[1]) == "running"
        finally:
            store.unlock()


def test_progress_bar_text() -> None:
    from app.core.process.view import ProcessView

    assert progress_bar(ProcessView("x", step=5, total=10), width=4) == "██░░  50.0%"
    assert progress_bar(ProcessView("x", step=7, total=0)) == "7 steps"
