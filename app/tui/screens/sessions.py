"""The saved sessions, newest first: title, date, model, turns. Enter resumes one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from app.core.store.session_store import SessionInfo


def describe(info: SessionInfo, current: str = "") -> Text:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
    out = Text()
    out.append("● " if info.session_id == current else "  ", "bold")
    out.append(f"{info.title[:60]}\n", "bold")
    out.append(f"    {when} · {info.model or 'unknown model'} · {info.turns} turn"
               f"{'s' if info.turns != 1 else ''} · {info.session_id}", "dim")
    return out


class SessionsScreen(ModalScreen[Path | None]):
    AUTO_FOCUS = "OptionList"
    DEFAULT_CSS = """
    SessionsScreen { align: center middle; }
    SessionsScreen > Vertical { width: 90%; max-width: 110; height: 80%; background: $surface;
                                border: round $primary; padding: 0 1; }
    SessionsScreen .sessions--title { text-style: bold; color: $primary; padding: 0 1; }
    SessionsScreen OptionList { height: 1fr; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Close", show=False)]

    def __init__(self, infos: list[SessionInfo], current: str = "") -> None:
        super().__init__()
        self.infos = infos
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            title = (f"Sessions ({len(self.infos)}) — Enter resumes, Esc closes" if self.infos
                     else "No saved sessions yet — Esc closes")
            yield Static(title, classes="sessions--title")
            yield OptionList(*[Option(describe(i, self.current), id=str(n))
                               for n, i in enumerate(self.infos)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        idx = int(event.option.id or 0)
        self.dismiss(self.infos[idx].path)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
