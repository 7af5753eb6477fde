"""Context used vs the model's window, with the compaction thresholds marked on the bar.

``used`` is the provider's real count from the last Usage event plus an estimate for text not
counted yet (the reply streaming now, pending messages). Bands: below 50% calm, 50-80% warm, 80-95%
hot (compaction territory), 95% and over full.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from app.core.context.tokens import format_tokens

MARKS = (80, 85, 95)  # where compaction tiers fire
BANDS = ((95, "full"), (80, "high"), (50, "mid"), (0, "low"))


def band_for(percent: float) -> str:
    for floor, name in BANDS:
        if percent >= floor:
            return name
    return "low"


class ContextMeter(Widget):
    DEFAULT_CSS = """
    ContextMeter { height: 3; padding: 0 1; }
    ContextMeter > .context-meter--fill { color: $success; }
    ContextMeter.-mid > .context-meter--fill { color: $warning; }
    ContextMeter.-high > .context-meter--fill { color: $error 75%; }
    ContextMeter.-full > .context-meter--fill { color: $error; text-style: bold; }
    ContextMeter > .context-meter--empty { color: $panel-lighten-2; }
    ContextMeter > .context-meter--mark { color: $text-muted; }
    ContextMeter > .context-meter--label { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "context-meter--fill", "context-meter--empty", "context-meter--mark", "context-meter--label"}

    used: reactive[int] = reactive(0)
    estimated: reactive[int] = reactive(0)
    limit: reactive[int] = reactive(8192)
    last_tier: reactive[str] = reactive("")  # the compaction tier that fired last (summary/mask/…)
    stored: reactive[int] = reactive(0)  # what the whole session holds (more than is sent)

    @property
    def total(self) -> int:
        return self.used + self.estimated

    @property
    def percent(self) -> float:
        return 100.0 * self.total / self.limit if self.limit else 0.0

    @property
    def band(self) -> str:
        return band_for(self.percent)

    def set_usage(self, used: int, limit: int, estimated: int = 0) -> None:
        self.used, self.limit, self.estimated = used, max(1, limit), max(0, estimated)

    def watch_used(self) -> None:
        self._update_band()

    def watch_estimated(self) -> None:
        self._update_band()

    def watch_limit(self) -> None:
        self._update_band()

    def _update_band(self) -> None:
        band = self.band
        for _, name in BANDS:
            self.set_class(name == band, f"-{name}")

    def render(self) -> Text:
        pct = self.percent
        label = self.get_component_rich_style("context-meter--label")
        out = Text()
        out.append("Context ", "bold")
        approx = "~" if self.estimated else ""
        out.append(f"{approx}{format_tokens(self.total)}/{format_tokens(self.limit)} "
                   f"{pct:.0f}%")
        if self.stored > self.total:  # a long session: the window holds only part of it
            out.append(f" · {format_tokens(self.stored)} stored", label)
        out.append("\n")
        width = max(10, self.content_region.width or self.size.width or 20)
        filled = min(width, round(width * min(pct, 100.0) / 100.0))
        marks = {min(width - 1, int(width * m / 100)) for m in MARKS}
        fill = self.get_component_rich_style("context-meter--fill")
        empty = self.get_component_rich_style("context-meter--empty")
        mark = self.get_component_rich_style("context-meter--mark")
        for i in range(width):
            if i < filled:
                out.append("┃" if i in marks else "█", fill)
            else:
                out.append("│" if i in marks else "░", mark if i in marks else empty)
        out.append("\n")
        out.append("compaction at " + "·".join(map(str, MARKS)) + "%", label)
        if self.last_tier:
            out.append(f" · last: {self.last_tier}", label)
        return out
