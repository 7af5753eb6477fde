"""Sub-agent workers. Until a task spawns workers there is nothing to show, and it says so."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

EMPTY = "No workers running.\nSub-agents show here when a task spawns them."


class SwarmPanel(Static):
    DEFAULT_CSS = """
    SwarmPanel { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: list[tuple[str, str]] = []

    def on_mount(self) -> None:
        self.show_workers([])

    def show_workers(self, workers: list[tuple[str, str]]) -> None:
        """``workers``: (name, status) pairs from the swarm snapshot, newest last."""
        self.entries = list(workers)
        out = Text()
        out.append("Swarm\n", "bold")
        if not workers:
            out.append(EMPTY, "italic")
        for name, status in workers:
            out.append(f"• {name}  ", "bold")
            out.append(f"{status}\n")
        self.update(out)
