"""Messages waiting for the running turn (steers), after it (queued), and attached pastes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

ICONS = {"steer": ("↪ steer ", "bold"), "queue": ("» queued", "bold"),
         "paste": ("+ paste ", "bold")}


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class PendingStrip(Static):
    DEFAULT_CSS = """
    PendingStrip { height: auto; max-height: 8; padding: 0 2; background: $panel;
                   color: $text; display: none; }
    PendingStrip.-shown { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.items: list[tuple[str, str]] = []

    def show_items(self, items: list[tuple[str, str]]) -> None:
        """``items``: (kind, text) with kind steer | queue | paste (text = its description)."""
        self.items = list(items)
        self.set_class(bool(items), "-shown")
        if not items:
            self.update("")
            return
        out = Text()
        for kind, text in items[-6:]:
            icon, style = ICONS.get(kind, (kind, ""))
            one_line = " ".join(text.split())
            out.append(f"{icon} ", style)
            out.append(one_line[:200] + ("…" if len(one_line) > 200 else ""))
            out.append("\n")
        hidden = len(items) - 6
        if hidden > 0:
            out.append(f"… and {hidden} more\n", "italic")
        hints = []
        if any(k in ("steer", "queue") for k, _ in items):
            hints.append("↑ on an empty prompt recalls the last one to edit")
        if any(k == "paste" for k, _ in items):
            hints.append("⌫ on an empty prompt drops the last paste")
        out.append(" · ".join(hints), "dim italic")
        self.update(out)
