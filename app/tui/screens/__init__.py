"""Screens, and the registry other panes use to join the app.

A full-screen pane (dashboard, swarm, volumes, process view) registers itself once:

    from app.tui.screens import ScreenEntry, register_screen
    register_screen(ScreenEntry("dashboard", DashboardScreen, "Dashboard", keys="f4"))

That adds an action ``show_dashboard`` (remappable in [keymap], listed in F1 and the command
palette) which pushes a fresh ``DashboardScreen()``; Esc on the screen pops back. A modal that asks
the user something (a tool permission) is a ``ModalScreen[T]`` pushed with a callback from an App
handler of the core event that needs the answer; the callback calls the session (see
docs/ARCHITECTURE.md, "Adding a pane or a modal").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.screen import Screen

from app.tui.actions import ActionSpec, register_action


@dataclass(frozen=True)
class ScreenEntry:
    name: str
    factory: Callable[[], Screen[Any]]
    title: str
    keys: str = ""
    description: str = ""


_SCREENS: dict[str, ScreenEntry] = {}


def register_screen(entry: ScreenEntry) -> ScreenEntry:
    _SCREENS[entry.name] = entry
    if entry.keys:
        register_action(ActionSpec(f"show_{entry.name}", entry.keys,
                                   f"show_screen('{entry.name}')",
                                   entry.description or f"Open {entry.title}", "Panes"))
    return entry


def screens() -> list[ScreenEntry]:
    return list(_SCREENS.values())


def get_screen(name: str) -> ScreenEntry | None:
    return _SCREENS.get(name)
