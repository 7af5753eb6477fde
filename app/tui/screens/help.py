"""F1: every key (after the user's keymap) and every slash command, from the registries."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from app.tui import actions, slash


def _key_label(keys: str) -> str:
    names = {"grave_accent": "`", "escape": "esc", "up": "↑", "down": "↓"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def help_table(keymap: dict[str, str]) -> Table:
    table = Table(box=None, expand=True, show_header=False, padding=(0, 1))
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what")
    by_group: dict[str, list[actions.ActionSpec]] = {}
    for spec in actions.actions():
        by_group.setdefault(spec.group, []).append(spec)
    for group, specs in by_group.items():
        table.add_row(Text(group, style="underline"), "")
        for spec in specs:
            keys = spec.key_display if spec.key_display and spec.id not in keymap else (
                _key_label(actions.keys_for(spec, keymap)))
            table.add_row(Text(keys), Text.assemble(spec.description, ("  (" + spec.id + ")",
                                                                         "dim")))
    table.add_row(Text("Slash commands", style="underline"), "")
    for cmd in slash.commands():
        usage = f"{cmd.title} {cmd.usage}".strip()
        table.add_row(Text(usage), Text(cmd.help))
    return table


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "VerticalScroll"
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; padding: 1 2;
                                  background: $surface; border: round $primary; }
    HelpScreen .help--title { text-style: bold; color: $primary; }
    HelpScreen .help--foot { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close", show=False)]

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Nanobot — keys and commands", classes="help--title")
            yield Static(help_table(self.keymap))
            yield Static(Text("Remap keys by id in the config's [keymap] table, e.g. "
                              'toggle_thinking = "ctrl+y".  Esc closes.'), classes="help--foot")
