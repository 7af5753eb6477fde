"""Snapshot of the process view with fixed process files. Update with: pytest --snapshot-update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from app.tui.screens.processes import ProcessesScreen
from tests.tui.process_fixtures import three_processes, user_task_processes


class _Host(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ProcessesScreen(poll_seconds=0))


async def _settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_process_view(snap_compare, nanobot_home: Path) -> None:  # type: ignore[no-untyped-def]
    three_processes(nanobot_home)
    assert snap_compare(_Host(), terminal_size=(110, 24), run_before=_settle)


def test_process_view_empty(snap_compare, nanobot_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_Host(), terminal_size=(80, 12), run_before=_settle)


def test_process_view_user_tasks(snap_compare, nanobot_home: Path) -> None:  # type: ignore[no-untyped-def]
    # A task file's process shows where it comes from; a job and a built-in task are rows alike.
    user_task_processes(nanobot_home)
    assert snap_compare(_Host(), terminal_size=(110, 26), run_before=_settle)
