"""The bottom status line: turn state, model, thinking, context, session."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_ICONS = {"idle": "●", "waiting": "◌", "streaming": "▶", "thinking": "∴", "tool": "⚙",
               "cancelling": "■"}


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    StatusBar.-busy { color: $text; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = "idle"
        self.detail = ""
        self.model = ""
        self.thinking = "off"
        self.context = ""
        self.session = ""
        self.background = ""  # work nobody waits for, e.g. "summarising"

    def set(self, **fields: str) -> None:
        for k, v in fields.items():
            setattr(self, k, v)
        self.set_class(self.state != "idle", "-busy")
        self._draw()

    def on_mount(self) -> None:
        self._draw()

    def _draw(self) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        icon = STATE_ICONS.get(self.state, "●")
        out.append(f"{icon} {self.state}", "bold")
        if self.detail:
            out.append(f" {self.detail}")
        out.append("  │  ")
        out.append(self.model)
        out.append("  │  ")
        out.append(f"think {self.thinking}", "bold" if self.thinking != "off" else "")
        if self.context:
            out.append(f"  │  ctx {self.context}")
        if self.background:
            out.append(f"  │  ∑ {self.background}", "italic")
        if self.session:
            out.append(f"  │  {self.session}", "dim")
        if out.markup != getattr(self, "_shown", None):
            self._shown = out.markup
            self.update(out, layout=False)  # one fixed line: no need to re-layout the screen
