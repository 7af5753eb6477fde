"""The standalone app behind ``nanobot setup``: one wizard screen, exit code from its result."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from app.core.models.hardware import HardwareSnapshot
from app.tui.screens.setup import SetupScreen


class SetupApp(App[bool]):
    TITLE = "Nanobot setup"

    def __init__(self, *, hardware: HardwareSnapshot | None = None,
                 models_dir: Path | None = None, mirror: str = "",
                 config_path: Path | None = None) -> None:
        super().__init__()
        self.hardware, self.models_dir = hardware, models_dir
        self.mirror, self.config_path = mirror, config_path

    def on_mount(self) -> None:
        self.push_screen(SetupScreen(hardware=self.hardware, models_dir=self.models_dir,
                                     mirror=self.mirror, config_path=self.config_path),
                         self._done)

    def _done(self, finished: bool | None) -> None:
        self.exit(bool(finished))
