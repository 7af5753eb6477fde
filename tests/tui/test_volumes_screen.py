"""Pilot tests of the volumes screen (Ctrl+O from the main screen)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from app.core.context_store.ingest import ingest
from app.core.context_store.store import default_root
from app.core.providers.scripted import ScriptedProvider
from app.tui.app import NanobotApp
from app.tui.screens.volumes import EMPTY, VolumesScreen
from tests.tui.harness import make_factory


def make_volumes(tmp_path: Path) -> None:
    for name, files in {"docs": {"guide.md": "Install with make run.\nThen ask.\n"},
                        "logs": {"a.log": "boot ok\n", "b.log": "disk full\nretry\n"}}.items():
        src = tmp_path / name
        src.mkdir()
        for rel, body in files.items():
            (src / rel).write_text(body)
        ingest([src], name, default_root())


def app_for(tmp_path: Path) -> NanobotApp:
    return NanobotApp(make_factory(tmp_path, ScriptedProvider()))


async def test_ctrl_o_lists_volumes_and_escape_returns(tmp_path: Path) -> None:
    make_volumes(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, VolumesScreen)
        table = screen.query_one("#volumes-table", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["docs", "logs"]
        assert table.get_row_at(1)[1:3] == ["2", "3"]  # files, lines
        detail = screen.query_one("#volume-detail", Static)
        assert "Volume 'docs'" in str(detail.render())
        await pilot.press("down")
        await pilot.pause()
        assert "Volume 'logs'" in str(detail.render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, VolumesScreen)


async def test_empty_state_says_how_to_ingest(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(app.screen.query_one("#volume-detail", Static).render()) == EMPTY
        assert app.screen.query_one("#volumes-table", DataTable).row_count == 0


async def test_reload_picks_up_a_new_volume(tmp_path: Path) -> None:
    app = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()
        make_volumes(tmp_path)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.query_one("#volumes-table", DataTable).row_count == 2
