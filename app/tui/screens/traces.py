"""The traces screen (F7): what each recorded turn did, its outcome, and the per-kind statistics.

Rows are the newest turns first. ``g`` / ``b`` judge the highlighted turn good or bad (the same
verdict as the 👍/👎 keys give the last answer), ``s`` switches between the turns and the
statistics table, ``r`` reloads. The log is read in a thread worker.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.cells import cell_len
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from app.core.learning.learner import Learner
from app.core.learning.report import (
    STATS_COLUMNS,
    TRACE_COLUMNS,
    outcome_text,
    stats_row,
    trace_row,
)
from app.core.learning.stats import CategoryStats
from app.core.learning.traces import TraceView

EMPTY = "No traces yet: every turn is recorded when it ends ([learning] traces = true)."
SHOWN = 200  # newest turns listed


def trace_detail(view: TraceView) -> str:
    rec = view.record
    tokens = rec.get("tokens") or {}
    used = (f"{tokens['total']} tokens" if "total" in tokens else
            f"{tokens.get('prompt', 0)}+{tokens.get('completion', 0)} tokens")
    lines = [f"{view.task}",
             f"category {view.category or '-'} · {rec.get('status', '')} · "
             f"{outcome_text(view)} · {view.steps} steps · {view.seconds:.1f} s · {used} · "
             f"{rec.get('model', '')}"]
    if rec.get("recipe"):
        done = "ran to the end" if rec.get("recipe_completed") else "broke off"
        lines.append(f"learned recipe {rec['recipe']} ({done})")
    if rec.get("budget"):
        lines.append(f"step budget {rec['budget']}")
    if rec.get("flagged"):
        lines.append(f"flagged: {rec['flagged']}")
    for c in view.calls:
        args = json.dumps(c.get("args", {}), ensure_ascii=False)
        mark = "✓" if c.get("ok") else "✗"
        lines.append(f"  {mark} {c.get('name', '')}({args[:100]}) → {c.get('summary', '')[:80]}")
    answer = " ".join(str(rec.get("answer", "")).split())
    if answer:
        lines.append(f"answer: {answer[:300]}")
    return "\n".join(lines)


def fill(table: DataTable[str], columns: tuple[str, ...],
         rows: list[tuple[str, tuple[str, ...]]]) -> None:
    """Replace the table's columns and rows. Widths are set from the cells here rather than
    measured by the table when idle, so the two tables switched with ``s`` never show a frame
    with the other table's column widths."""
    table.clear(columns=True)
    for i, label in enumerate(columns):
        width = max([cell_len(label), *(cell_len(cells[i]) for _, cells in rows)])
        table.add_column(label, width=width)
    for key, cells in rows:
        table.add_row(*cells, key=key)


class TracesScreen(Screen[None]):
    AUTO_FOCUS = "#traces-table"
    DEFAULT_CSS = """
    TracesScreen { layout: vertical; }
    TracesScreen #traces-title { padding: 0 1; text-style: bold; color: $primary; }
    TracesScreen #traces-table { height: 1fr; min-height: 4; }
    TracesScreen #trace-detail { height: auto; max-height: 14; padding: 1 1 0 1;
                                 border-top: solid $panel; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("g", "judge(True)", "Good"),
        Binding("b", "judge(False)", "Bad"),
        Binding("s", "toggle_stats", "Stats"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, learner: Learner | None = None) -> None:
        super().__init__()
        self._learner = learner
        self.views: dict[str, TraceView] = {}
        self.showing_stats = False

    @property
    def learner(self) -> Learner:
        if self._learner is None:
            factory = getattr(self.app, "factory", None)  # the main app's (not a test host's)
            hook = factory.learning if factory is not None else None
            if hook is not None:
                self._learner = hook.learner
            else:
                from app.runtime.learning import make_learner

                self._learner = make_learner()
        return self._learner

    def compose(self) -> ComposeResult:
        yield Static("Traces", id="traces-title")
        table: DataTable[str] = DataTable(id="traces-table", cursor_type="row")
        yield table
        yield Static("loading…", id="trace-detail", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, group="traces", exclusive=True, exit_on_error=False)
    def load(self) -> None:
        learner = self.learner
        if self.showing_stats:
            rows = learner.stats.table()
            self.app.call_from_thread(self.show_stats, rows)
        else:
            views = learner.traces.turns(last=SHOWN)
            self.app.call_from_thread(self.show_traces, views)

    def show_traces(self, views: list[TraceView]) -> None:
        self.views = {v.id: v for v in views}
        self.query_one("#traces-title", Static).update(
            f"Traces — {len(views)} newest (g good, b bad, s statistics)")
        fill(self.query_one("#traces-table", DataTable), TRACE_COLUMNS,
             [(v.id, trace_row(v)) for v in views])
        detail = self.query_one("#trace-detail", Static)
        detail.update(trace_detail(views[0]) if views else EMPTY)

    def show_stats(self, rows: list[CategoryStats]) -> None:
        self.views = {}
        self.query_one("#traces-title", Static).update(
            "Statistics per kind of task (s: back to the traces)")
        fill(self.query_one("#traces-table", DataTable), STATS_COLUMNS,
             [(r.category, stats_row(r)) for r in rows])
        self.query_one("#trace-detail", Static).update(
            "Budget: the 75th percentile of the steps successful runs took, + 2 (at least 3); "
            "a task taking 10× its kind's median is flagged." if rows else
            "No statistics yet: they build up as turns are recorded.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        if key in self.views:
            self.query_one("#trace-detail", Static).update(trace_detail(self.views[key]))

    def _highlighted(self) -> TraceView | None:
        table = self.query_one("#traces-table", DataTable)
        if self.showing_stats or not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.views.get(str(key)) if key is not None else None

    def action_judge(self, good: bool) -> None:
        view = self._highlighted()
        if view is None or view.kind != "turn":
            self.notify("Pick a turn first", severity="warning")
            return
        learned = self.learner.judge(view.id, good, "user")
        note = "good 👍" if good else "bad 👎"
        if learned.crystallised is not None:
            note += f"; learned recipe {learned.crystallised.name}"
        if learned.demoted is not None:
            note += f"; demoted recipe {learned.demoted.name}"
        self.notify(f"Marked as {note}")
        self.load()

    def action_toggle_stats(self) -> None:
        self.showing_stats = not self.showing_stats
        self.load()

    def action_reload(self) -> None:
        self.load()
