"""``/memory``: every remembered fact, to read, edit, pin or delete; and the briefing's state.

Facts of the user and of this project are listed, newest first. ``e`` edits the highlighted fact
in a line below the table (Enter saves, Esc cancels), ``d`` twice deletes it, ``p`` pins it (a
pinned fact never decays away), ``b`` shows the memory briefing.
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from app.core.memory.db import MemoryDbError
from app.core.memory.facts import Fact, age_text, scope_label
from app.core.memory.hook import MemoryHook
from app.core.memory.store import MemoryInputError

EMPTY = ("Nothing remembered yet. The model keeps facts with its remember tool (ask it to "
         "remember something); /memory add TEXT keeps one yourself.")


class MemoryScreen(Screen[None]):
    AUTO_FOCUS = "#memory-table"
    DEFAULT_CSS = """
    MemoryScreen { layout: vertical; }
    MemoryScreen #memory-title { padding: 0 1; text-style: bold; color: $primary; }
    MemoryScreen #memory-table { height: 1fr; min-height: 4; }
    MemoryScreen #memory-edit { display: none; }
    MemoryScreen #memory-edit.-editing { display: block; }
    MemoryScreen #memory-detail { height: auto; max-height: 14; padding: 0 1;
                                  border-top: solid $panel; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete (twice)"),
        Binding("p", "pin", "Pin/unpin"),
        Binding("b", "briefing", "Briefing"),
    ]

    def __init__(self, hook: MemoryHook) -> None:
        super().__init__()
        self.hook = hook
        self.facts: dict[str, Fact] = {}
        self._delete_armed = ""
        self._editing = ""

    def compose(self) -> ComposeResult:
        yield Static("Memory", id="memory-title", markup=False)
        table: DataTable[str] = DataTable(id="memory-table", cursor_type="row")
        table.add_columns("#", "scope", "fact", "said", "uses", "pin")
        yield table
        yield Input(id="memory-edit", placeholder="the fact (Enter saves, Esc cancels)")
        yield Static("", id="memory-detail", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.reload()

    # --- showing -------------------------------------------------------------------------------

    def reload(self, keep: str = "") -> None:
        memory = self.hook.memory
        facts = memory.facts.all(memory.scopes(self.hook.workspace()))
        self.facts = {str(f.id): f for f in facts}
        table = self.query_one("#memory-table", DataTable)
        table.clear()
        now = memory.clock()
        for f in facts:
            table.add_row(str(f.id), scope_label(f.scope), f.text, age_text(f.updated, now),
                          str(f.uses), "●" if f.pinned else "", key=str(f.id))
        if keep in self.facts:
            table.move_cursor(row=table.get_row_index(keep))
        self._title()
        self._detail(self._current())

    def _title(self) -> None:
        private = "private: nothing is remembered" if self.hook.private else "remembered"
        briefing = self.hook.bulletin.status() if self.hook.bulletin is not None else \
            "memory briefing: off"
        self.query_one("#memory-title", Static).update(
            f"Memory · {len(self.facts)} fact(s) · {briefing} · this session: {private}")

    def _current(self) -> Fact | None:
        table = self.query_one("#memory-table", DataTable)
        if not self.facts or table.cursor_row < 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # an empty table has no cell under the cursor
            return None
        return self.facts.get(str(key))

    def _detail(self, fact: Fact | None, note: str = "") -> None:
        if fact is None:
            text = note or EMPTY
        else:
            lines = [f"#{fact.id} ({scope_label(fact.scope)}{', pinned' if fact.pinned else ''})",
                     fact.text, ""]
            for s in fact.sources[-5:]:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.ts)) if s.ts else "?"
                lines.append(f"said {when} in session {s.session_id or '(unsaved)'}"
                             + (f", turn {s.turn_id}" if s.turn_id else ""))
            text = "\n".join(lines) + (f"\n\n{note}" if note else "")
        self.query_one("#memory-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._delete_armed = ""
        key = event.row_key.value if event.row_key else None
        self._detail(self.facts.get(str(key)))

    # --- actions -------------------------------------------------------------------------------

    def action_close(self) -> None:
        if self._editing:
            self._stop_editing()
            return
        self.dismiss(None)

    def action_edit(self) -> None:
        fact = self._current()
        if fact is None:
            return
        self._editing = str(fact.id)
        edit = self.query_one("#memory-edit", Input)
        edit.value = fact.text
        edit.add_class("-editing")
        edit.focus()

    def _stop_editing(self) -> None:
        self._editing = ""
        edit = self.query_one("#memory-edit", Input)
        edit.remove_class("-editing")
        self.query_one("#memory-table", DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        fid = self._editing
        self._stop_editing()
        if not fid:
            return
        try:
            self.hook.memory.facts.edit(int(fid), event.value)
        except (MemoryInputError, MemoryDbError) as exc:
            self._detail(self._current(), f"not saved: {exc}")
            return
        self.reload(keep=fid)
        self._detail(self._current(), "saved")

    def action_delete(self) -> None:
        fact = self._current()
        if fact is None:
            return
        if self._delete_armed != str(fact.id):
            self._delete_armed = str(fact.id)
            self._detail(fact, f"press d again to delete #{fact.id}")
            return
        self._delete_armed = ""
        try:
            self.hook.memory.facts.delete(fact.id)
        except (MemoryInputError, MemoryDbError) as exc:
            self._detail(fact, f"not deleted: {exc}")
            return
        self.reload()
        self._detail(self._current(), f"deleted #{fact.id}: {fact.text}")

    def action_pin(self) -> None:
        fact = self._current()
        if fact is None:
            return
        self.hook.memory.facts.set_pinned(fact.id, not fact.pinned)
        self.reload(keep=str(fact.id))

    def action_briefing(self) -> None:
        bulletin = self.hook.bulletin
        if bulletin is None:
            self._detail(None, "The memory briefing is off ([memory] bulletin = false).")
            return
        text = bulletin.text or "(none yet: /memory rebuild builds one now)"
        self._detail(None, f"{bulletin.status()}\n\n{text}")
