"""The process view: every million-step process on this machine, live.

Processes usually run in another program (``nanobot process run`` in a shell), so the screen polls
their files in a thread worker and renders the snapshot it gets (the core's ``snapshot_processes``);
it never talks to a runner. Processes started from the CLI are there as soon as the app opens.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from app.core.process.snapshot import ProcessesSnapshot, snapshot_processes
from app.core.process.view import ProcessView, fmt_duration, tree_order

COLUMNS = ("process", "status", "progress", "steps/s", "samples/step", "red flags", "k", "ETA")
STATUS_STYLE = {"running": "green", "finished": "bold green", "interrupted": "yellow",
                "paused": "yellow", "stopped": "red", "failed": "bold red", "damaged": "bold red"}


def progress_bar(view: ProcessView, width: int = 12) -> str:
    if not view.total:
        return f"{view.step:,} steps"
    filled = round(width * view.progress)
    return f"{'█' * filled}{'░' * (width - filled)} {100 * view.progress:5.1f}%"


def row_for(view: ProcessView) -> tuple[Any, ...]:
    eta = fmt_duration(view.eta_s) if view.eta_s >= 0 else "–"
    return (view.id, Text(view.status, style=STATUS_STYLE.get(view.status, "")),
            progress_bar(view), f"{view.steps_per_s:,.1f}", f"{view.samples_per_step:.2f}",
            f"{100 * view.flag_rate:.2f}%", str(view.k), eta)


class ProcessesScreen(Screen[None]):
    AUTO_FOCUS = "#process-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "refresh", "Refresh"),
    ]
    DEFAULT_CSS = """
    ProcessesScreen DataTable { height: 1fr; }
    ProcessesScreen #process-detail { height: auto; max-height: 12; padding: 0 1;
                                      border-top: solid $panel; color: $text-muted; }
    ProcessesScreen #process-empty { padding: 1 2; color: $text-muted; }
    """

    def __init__(self, *, poll_seconds: float = 1.0) -> None:
        super().__init__()
        self.poll_seconds = poll_seconds
        self.snapshot = ProcessesSnapshot(())

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("No processes yet. Start one with: nanobot process run hanoi --disks 10",
                     id="process-empty")
        table: DataTable[Any] = DataTable(id="process-table", cursor_type="row")
        table.add_columns(*COLUMNS)
        yield table
        yield Static("", id="process-detail")
        # Ctrl+P is a binding of its own here: the palette's own footer entry drew a stray
        # "▏^p Palette".
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.title = "Processes"
        self.action_refresh()
        if self.poll_seconds > 0:
            self.set_interval(self.poll_seconds, self.action_refresh)

    def action_refresh(self) -> None:
        self.poll()

    @work(thread=True, exclusive=True, group="process-poll", exit_on_error=False)
    def poll(self) -> None:
        snap = snapshot_processes()
        self.app.call_from_thread(self.show, snap)

    def show(self, snap: ProcessesSnapshot) -> None:
        self.snapshot = snap
        table = self.query_one("#process-table", DataTable)
        selected = self._selected_id()
        table.clear()
        ordered = tree_order(snap.processes)
        self.snapshot = snap = ProcessesSnapshot(tuple(v for _, v in ordered))
        for depth, view in ordered:
            row = row_for(view)
            table.add_row(("  " * depth + "└ " if depth else "") + row[0], *row[1:], key=view.id)
        ids = [v.id for v in snap.processes]
        if selected in ids:
            table.move_cursor(row=ids.index(selected))
        self.query_one("#process-empty").display = not snap.processes
        table.display = bool(snap.processes)
        self._show_detail()

    def _selected_id(self) -> str | None:
        table = self.query_one("#process-table", DataTable)
        if not self.snapshot.processes or table.row_count == 0:
            return None
        row = min(table.cursor_row, len(self.snapshot.processes) - 1)
        return self.snapshot.processes[row].id

    def _show_detail(self) -> None:
        selected = self._selected_id()
        view = next((v for v in self.snapshot.processes if v.id == selected), None)
        detail = self.query_one("#process-detail", Static)
        detail.update(Text("\n".join(view.detail_lines())) if view else "")

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()


def announce_processes(app: App[Any]) -> None:
    """On start-up, say so when processes are running or waiting to be resumed."""
    active = snapshot_processes().active
    if active:
        running = sum(p.status == "running" for p in active)
        app.notify(f"{len(active)} process(es) ({running} running): F6 shows them",
                   title="Processes", timeout=8)
