"""The command palette's providers, imported when the palette first opens: not before the app's
first frame (they load the core's model and session modules)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def _lazy(module: str, name: str) -> Callable[[], Any]:
    """A palette provider imported when the palette first opens, not before the first frame."""
    def load() -> Any:
        return getattr(importlib.import_module(module), name)

    load.__qualname__ = f"lazy {name}"
    return load


# Only ours: a theme picked from Textual's list would not persist.
PALETTE: set[Any] = {
    *(_lazy("app.tui.commands", n) for n in (
        "ActionsProvider", "SlashProvider", "ModelsProvider", "SessionsProvider",
        "ThemesProvider")),
    _lazy("app.tui.commands_models", "ModelCommandsProvider")}
