"""Snapshots of the swarm pane and a worker transcript, from fixed data (no clocks involved)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from app.core.swarm.events import SwarmSnapshot, WorkerRow
from widgets.swarm_tree import SwarmTree
from widgets.worker_transcript import WorkerTranscript

ROWS = (
    WorkerRow("w1", None, 1, "index the docs", "qwen2.5-coder-0.5b", "running",
              "Reading docs/ARCHITECTURE.md", 74.0, 12_400, 3, 10, 187_600, 526.0),
    WorkerRow("w4", "w1", 2, "summarise chapter 2", "memory slot", "done", "", 12.0, 2_100, 2,
              5, None, None),
    WorkerRow("w5", "w1", 2, "check the links", "qwen2.5-coder-0.5b", "queued", "", 0.0, 0, 0,
              5, 187_600, 526.0),
    WorkerRow("w2", None, 1, "find TODOs", "qwen2.5-coder-0.5b", "over_budget", "", 31.0,
              9_800, 10, 10, None, None, "tool-round budget (10) used up"),
    WorkerRow("w3", None, 1, "run the tests", "rlm slot", "cancelled", "", 5.0, 640, 1, 10,
              None, None, "cancelled by user"),
)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("conversation above", id="above")
        yield SwarmTree(id="swarm")

    def on_mount(self) -> None:
        self.query_one(SwarmTree).show(SwarmSnapshot(ROWS))


def test_swarm_pane(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def cursor_on_first_worker(pilot) -> None:  # type: ignore[no-untyped-def]
        tree = pilot.app.query_one(SwarmTree)
        tree.focus()
        tree.move_cursor(tree.root.children[0])
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(110, 12), run_before=cursor_on_first_worker)


class TranscriptHost(App[None]):
    def on_mount(self) -> None:
        self.push_screen(WorkerTranscript("w1", "w1 · index the docs · qwen2.5-coder-0.5b", (
            ("task", "index the docs"),
            ("assistant", "I will list the docs folder first."),
            ("call", 'list_dir {"path": "docs"}'),
            ("result", "ARCHITECTURE.md\nEVENT_LOG.md"),
            ("error", "Error: path 'secret' is outside the workspace"),
            ("end", "cancelled: cancelled by user"),
        )))


def test_worker_transcript(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(TranscriptHost(), terminal_size=(90, 22))
