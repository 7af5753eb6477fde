"""The model slots: what each runs, where, its state, context and speed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from app.core.models.manager import SlotState, SlotStatus

STATE_STYLE = {SlotState.READY: "green", SlotState.LOADING: "yellow",
               SlotState.RESTARTING: "yellow", SlotState.FAILED: "red bold",
               SlotState.IDLE: "dim", SlotState.UNLOADED: "dim"}
NOTE_WIDTH = 28
COLUMNS = ("slot", "model", "mode", "state", "context", "tok/s", "note")


class SlotTable(DataTable[Text]):
    DEFAULT_CSS = """
    SlotTable { height: auto; max-height: 8; overflow-x: hidden; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(show_cursor=False, zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.statuses: tuple[SlotStatus, ...] = ()

    def on_mount(self) -> None:
        for col in COLUMNS:
            self.add_column(col, key=col)

    def show(self, statuses: Sequence[SlotStatus]) -> None:
        self.statuses = tuple(statuses)
        self.clear()
        for st in statuses:
            mode = st.mode + (f" :{st.port}" if st.port else "")
            note = (f"= {st.shared_with}" if st.shared_with else st.message)
            if len(note) > NOTE_WIDTH:
                note = note[:NOTE_WIDTH - 1] + "…"
            self.add_row(
                Text(st.slot, style="bold"), Text(_short(st.model)), Text(mode),
                Text(st.state.value, style=STATE_STYLE[st.state]),
                Text(f"{st.context:,}" if st.context else "-"),
                Text(f"{st.tok_s:.1f}" if st.tok_s else "-"), Text(note, style="dim"),
                key=st.slot)


def _short(model: str) -> str:
    return model if len(model) <= 28 else model[:27] + "…"
