"""One resource on the dashboard: a name, a bar with its figure, and a sparkline of history."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Static

BAR_WIDTH = 16
SPARKS = "▁▂▃▄▅▆▇█"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    fraction = min(1.0, max(0.0, fraction))
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values (0..100) as block characters on a fixed 0..100 scale, so a
    flat line stays flat instead of being stretched to fill the height."""
    tail = list(values)[-width:]
    return "".join(SPARKS[min(len(SPARKS) - 1, max(0, int(v / 100 * len(SPARKS))))]
                   for v in tail)


class ResourceMeter(Horizontal):
    DEFAULT_CSS = """
    ResourceMeter { height: 1; }
    ResourceMeter > .meter-name { width: 11; color: $text-muted; }
    ResourceMeter > .meter-bar { width: 1fr; }
    ResourceMeter > .meter-spark { width: 32; color: $accent; }
    ResourceMeter.-hot > .meter-bar { color: $warning; }
    """

    def __init__(self, label: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.label = label
        self.figure = ""
        self.history: tuple[float, ...] = ()

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="meter-name")
        yield Static("", classes="meter-bar")
        yield Static("", classes="meter-spark")

    def show(self, fraction: float, figure: str, history: Sequence[float]) -> None:
        """Render ``fraction`` (0..1) with its ``figure`` text and a 0..100 ``history``."""
        self.figure = figure
        self.history = tuple(history)
        self.query_one(".meter-bar", Static).update(Text(f"{bar(fraction)} {figure}"))
        self.query_one(".meter-spark", Static).update(Text(sparkline(history, 30)))
        self.set_class(fraction >= 0.9, "-hot")
