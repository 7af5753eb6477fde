"""Machine and model at a glance: CPU, RAM, this process, and the model that answers.

The numbers come as a frozen snapshot from the core's sampler thread; the widget only renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from app.core.models.hardware import HardwareSnapshot


def gib(n: int) -> str:
    return f"{n / 2**30:.1f}G"


def size(n: int) -> str:
    return gib(n) if n >= 2**30 else f"{n / 2**20:.0f}M"


def bar(percent: float, width: int = 8) -> str:
    filled = max(0, min(width, round(width * percent / 100)))
    return "▰" * filled + "▱" * (width - filled)


class HardwarePanel(Static):
    DEFAULT_CSS = """
    HardwarePanel { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.snapshot: HardwareSnapshot | None = None
        self.model = ""
        self.model_detail = ""

    def on_mount(self) -> None:
        self._draw()

    def set_model(self, model: str, detail: str) -> None:
        self.model, self.model_detail = model, detail
        self._draw()

    def show_snapshot(self, snap: HardwareSnapshot) -> None:
        self.snapshot = snap
        self._draw()

    def _draw(self) -> None:
        out = Text()
        out.append("Model\n", "bold")
        out.append(f"{self.model or '—'}\n")
        if self.model_detail:
            out.append(f"{self.model_detail}\n", "dim")
        out.append("Machine\n", "bold")
        s = self.snapshot
        if s is None:
            out.append("sampling…", "dim italic")
        else:
            out.append(f"CPU {s.cpu_percent:3.0f}% {bar(s.cpu_percent)} ×{s.cpu_count}\n")
            out.append(f"RAM {gib(s.ram_used)}/{gib(s.ram_total)} {bar(s.ram_percent)}\n")
            out.append(f"App {size(s.process_rss)} resident", "dim")
        self.update(out)
