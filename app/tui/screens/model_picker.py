"""The model picker (``/model`` with no arguments, ``m`` on the dashboard): choose a slot, then
a model for it; ``u`` unloads the slot, ``l`` loads it. Returns a :class:`ModelCommand`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from app.core.models.commands import ModelCommand
from app.core.models.manager import SlotStatus
from app.core.settings.config import SLOTS


@dataclass(frozen=True)
class PickerOption:
    label: str
    target: str
    main_only: bool = False  # providers can only serve main


class ModelPickerScreen(ModalScreen[ModelCommand | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("tab", "next_slot", "Next slot", priority=True),
        Binding("u", "unload", "Unload slot"),
        Binding("l", "load", "Load slot"),
    ]
    DEFAULT_CSS = """
    ModelPickerScreen { align: center middle; }
    ModelPickerScreen > Vertical { width: 90; max-width: 100%; height: auto; max-height: 90%;
                                   border: round $accent; background: $surface; padding: 0 1; }
    ModelPickerScreen #picker-slot { text-style: bold; }
    ModelPickerScreen OptionList { height: auto; max-height: 14; }
    """

    def __init__(self, statuses: Sequence[SlotStatus], options: Sequence[PickerOption],
                 slot: str = "main") -> None:
        super().__init__()
        self.statuses = {s.slot: s for s in statuses}
        self.options = list(options)
        self.slot = slot

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("", id="picker-slot")
            yield Static("", id="picker-current")
            yield OptionList(id="picker-options")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.show_slot()

    def show_slot(self) -> None:
        self.query_one("#picker-slot", Label).update(
            f"Slot: {self.slot}   (tab: next slot, enter: use model, u: unload, l: load)")
        st = self.statuses.get(self.slot)
        self.query_one("#picker-current", Static).update(
            f"now: {st.model} — {st.state.value}" + (f", shares {st.shared_with}"
                                                    if st.shared_with else "")
            if st else "now: (unknown)")
        options = self.query_one(OptionList)
        options.clear_options()
        for i, opt in enumerate(self.options):
            if opt.main_only and self.slot != "main":
                continue
            options.add_option(Option(opt.label, id=str(i)))
        options.highlighted = 0 if options.option_count else None
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        opt = self.options[int(event.option.id or 0)]
        self.dismiss(ModelCommand("switch", self.slot, opt.target))

    def action_next_slot(self) -> None:
        self.slot = SLOTS[(SLOTS.index(self.slot) + 1) % len(SLOTS)]
        self.show_slot()

    def action_unload(self) -> None:
        self.dismiss(ModelCommand("unload", self.slot))

    def action_load(self) -> None:
        self.dismiss(ModelCommand("load", self.slot))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
