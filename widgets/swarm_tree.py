"""The live swarm pane: one line per worker, nested under the worker that spawned it.

It renders the :class:`~app.core.swarm.swarm.SwarmSnapshot` it is handed (``show``) and never polls the
core. Enter opens a worker's transcript and ``x`` (or Delete) cancels a worker and its children;
both are requests posted upward as messages, for the app to carry out.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from app.core.swarm.events import SwarmSnapshot, WorkerRow

# Single-width glyphs only: emoji-width icons shift the columns in some terminals.
ICONS = {"queued": "◌", "running": "●", "done": "✔", "failed": "✖", "cancelled": "■",
         "over_budget": "▲"}
TOOL_WIDTH = 28
STATE_NAMES = {"over_budget": "over budget"}


def short_number(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 100_000:
        return f"{n / 1_000:.0f}K"
    if n >= 1_000:
        return f"{n / 1_000:.1f}K"
    return str(n)


def short_time(seconds: float) -> str:
    s = int(seconds)
    return f"{s}s" if s < 60 else f"{s // 60}m{s % 60:02d}s"


def row_parts(row: WorkerRow) -> list[tuple[str, str]]:
    """(text, role) pieces of one row; the role picks a theme style."""
    state = STATE_NAMES.get(row.state, row.state)
    parts: list[tuple[str, str]] = [
        (f"{ICONS.get(row.state, '?')} ", row.state), (row.label, "label"),
        (f"  {row.model}", "dim"), (f"  {state}", row.state)]
    if row.tool:
        tool = row.tool if len(row.tool) <= TOOL_WIDTH else row.tool[: TOOL_WIDTH - 1] + "…"
        parts.append((f" {tool}", "tool"))
    parts.append((f"  {short_time(row.elapsed)} {short_number(row.tokens)} tok", "dim"))
    if row.state in ("queued", "running"):
        left = [f"{max(0, row.max_iterations - row.iterations)}/{row.max_iterations} it"]
        if row.seconds_left is not None:
            left.append(short_time(row.seconds_left))
        if row.tokens_left is not None:
            left.append(f"{short_number(row.tokens_left)} tok")
        parts.append(("  left " + " ".join(left), "dim"))
    elif row.stop_reason and row.state != "done":
        parts.append((f"  ({row.stop_reason})", "dim"))
    return parts


class SwarmTree(Tree[WorkerRow]):
    DEFAULT_CSS = """
    SwarmTree { height: auto; max-height: 12; padding: 0 1; background: $surface; }
    SwarmTree.-empty { display: none; }
    SwarmTree > .swarm-tree--running { color: $accent; text-style: bold; }
    SwarmTree > .swarm-tree--queued { color: $text-muted; }
    SwarmTree > .swarm-tree--done { color: $success; }
    SwarmTree > .swarm-tree--failed { color: $error; }
    SwarmTree > .swarm-tree--cancelled { color: $warning; }
    SwarmTree > .swarm-tree--over_budget { color: $warning; }
    SwarmTree > .swarm-tree--tool { color: $secondary; }
    SwarmTree > .swarm-tree--dim { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "swarm-tree--running", "swarm-tree--queued", "swarm-tree--done", "swarm-tree--failed",
        "swarm-tree--cancelled", "swarm-tree--over_budget", "swarm-tree--tool",
        "swarm-tree--dim"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "cancel_worker", "Cancel worker"),
        Binding("delete", "cancel_worker", "Cancel worker", show=False),
    ]

    class TranscriptRequested(Message):
        """The user wants to read a worker's transcript."""

        def __init__(self, worker_id: str) -> None:
            super().__init__()
            self.worker_id = worker_id

    class CancelRequested(Message):
        """The user wants a worker (and its children) stopped."""

        def __init__(self, worker_id: str) -> None:
            super().__init__()
            self.worker_id = worker_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Workers", **kwargs)  # type: ignore[arg-type]
        self.auto_expand = False
        self.guide_depth = 2
        self.snapshot = SwarmSnapshot()
        self._worker_nodes: dict[str, TreeNode[WorkerRow]] = {}
        self.add_class("-empty")
        self.root.expand()

    def show(self, snapshot: SwarmSnapshot) -> None:
        """Render a new snapshot: rows update in place, so the cursor stays where it was."""
        self.snapshot = snapshot
        for row in snapshot.rows:
            node = self._worker_nodes.get(row.id)
            text = " ".join(p for p, _ in row_parts(row))
            if node is None:
                parent = self._worker_nodes.get(row.parent or "", self.root)
                node = parent.add(text, data=row, expand=True)
                node.allow_expand = False
                self._worker_nodes[row.id] = node
                if parent is not self.root:
                    parent.allow_expand = True
            else:
                node.data = row
                node.set_label(text)
        running = snapshot.running
        ended = len(snapshot.rows) - running - sum(r.state == "queued" for r in snapshot.rows)
        self.root.set_label(f"Workers · {running} running · {ended} ended")
        self.set_class(not snapshot.rows, "-empty")

    def render_label(self, node: TreeNode[WorkerRow], base_style: Style, style: Style) -> Text:
        row = node.data
        if row is None:
            return super().render_label(node, base_style, style)
        text = Text()
        for piece, role in row_parts(row):
            part = Style() if role == "label" else self.get_component_rich_style(
                f"swarm-tree--{role}", partial=True)
            text.append(piece, part)
        text.stylize(style)
        prefix = super().render_label(node, base_style, style)
        prefix.truncate(len(prefix) - len(node.label))  # keep only the expand icon, if any
        return Text.assemble(prefix, text)

    def on_tree_node_selected(self, event: Tree.NodeSelected[WorkerRow]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.TranscriptRequested(event.node.data.id))

    def action_cancel_worker(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if node.data.state in ("queued", "running"):
            self.post_message(self.CancelRequested(node.data.id))
        else:
            self.notify(f"{node.data.label} has already ended", severity="warning")
