"""The volumes screen: every ingested volume with its size, and the description the agent gets."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.core.context_store.dense_status import semantic_status
from app.core.context_store.describe import describe
from app.core.context_store.errors import VolumeError
from app.core.context_store.store import VolumeStore

EMPTY = "No volumes yet. Ingest one with:  nanobot ingest PATH --name NAME"


class VolumesScreen(Screen[None]):
    AUTO_FOCUS = "#volumes-table"
    DEFAULT_CSS = """
    VolumesScreen { layout: vertical; }
    VolumesScreen #volumes-title { padding: 0 1; text-style: bold; color: $primary; }
    VolumesScreen #volumes-table { height: 1fr; min-height: 4; }
    VolumesScreen #volume-detail { height: auto; max-height: 12; padding: 1 1 0 1;
                                   border-top: solid $panel; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, store: VolumeStore | None = None) -> None:
        super().__init__()
        self.store = store or VolumeStore()
        self.details: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("Volumes", id="volumes-title")
        table: DataTable[str] = DataTable(id="volumes-table", cursor_type="row")
        table.add_columns("name", "files", "lines", "~tokens", "chunks", "near-dup")
        yield table
        yield Static("loading…", id="volume-detail", markup=False)  # paths may hold [brackets]
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, group="volumes", exclusive=True, exit_on_error=False)
    def load(self) -> None:
        rows: list[tuple[str, ...]] = []
        details: dict[str, str] = {}
        for meta in self.store.metas():
            try:
                vol = self.store.get(meta.name).volume
                details[meta.name] = describe(vol, semantic_status(vol.directory))
            except VolumeError as exc:
                details[meta.name] = str(exc)
            rows.append((meta.name, f"{meta.files:,}", f"{meta.lines:,}",
                         f"{meta.approx_tokens:,}", f"{meta.chunks:,}",
                         f"{meta.near_dup_chunks:,}"))
        self.app.call_from_thread(self.show, rows, details)

    def show(self, rows: list[tuple[str, ...]], details: dict[str, str]) -> None:
        self.details = details
        table = self.query_one("#volumes-table", DataTable)
        table.clear()
        for row in rows:
            table.add_row(*row, key=row[0])
        self.query_one("#volume-detail", Static).update(
            details[rows[0][0]] if rows else EMPTY)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = event.row_key.value if event.row_key else None
        if name in self.details:
            self.query_one("#volume-detail", Static).update(self.details[name])

    def action_reload(self) -> None:
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)
