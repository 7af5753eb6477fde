"""What the App does for the side column and the panes around the conversation: its size rule and
F2, the worker tree, hardware samples, background summaries' outcomes.

A mixin of :class:`app.tui.app.NanobotApp` (Textual finds message handlers through the class's MRO),
kept apart so the App module stays about wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from app.tui.bridge import HardwareSampled, SessionBridge
from widgets.hardware_panel import HardwarePanel
from widgets.swarm_panel import SwarmPanel
from widgets.swarm_tree import SwarmTree
from widgets.worker_transcript import WorkerTranscript

if TYPE_CHECKING:
    from app.core.context.compaction import CompactionEvent
    from app.core.swarm.events import SwarmUpdated

MIN_SIZE = (80, 24)  # below this the side column hides


class SidePanels:
    if TYPE_CHECKING:  # provided by the App
        main_row: Horizontal
        side: Vertical
        side_mode: str
        swarm: SwarmPanel
        swarm_tree: SwarmTree
        hardware_panel: HardwarePanel
        bridge: SessionBridge

        @property
        def screen(self) -> Screen[object]: ...

        def say(self, text: str, kind: str = "info") -> None: ...

        def add_notice(self, text: str, level: str = "info") -> None: ...

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        main = self.main_row
        narrow = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        if narrow != main.has_class("-narrow") and self.side_mode != "auto":
            # F2 chose for the size the terminal had; a new size is the automatic rule's again.
            self.side_mode = "auto"
            main.remove_class("-side-on", "-side-off")
        main.set_class(narrow, "-narrow")

    def action_toggle_side(self) -> None:
        side = self.side
        visible = side.display
        self.side_mode = "off" if visible else "on"
        main = self.main_row
        main.set_class(self.side_mode == "off", "-side-off")
        main.set_class(self.side_mode == "on", "-side-on")

    async def _show_swarm(self, ev: SwarmUpdated) -> None:
        self.swarm_tree.show(ev.snapshot)
        self.swarm.display = not ev.snapshot.rows  # the tree replaces the empty state
        if isinstance(self.screen, WorkerTranscript):
            await self.screen.show(self.bridge.worker_transcript(self.screen.worker_id))

    def on_swarm_tree_cancel_requested(self, message: SwarmTree.CancelRequested) -> None:
        stopped = self.bridge.cancel_worker(message.worker_id)
        self.say(f"cancelling {', '.join(stopped) or message.worker_id}", "warning")

    def on_hardware_sampled(self, message: HardwareSampled) -> None:
        self.hardware_panel.show_snapshot(message.snapshot)

    def _compaction_notice(self, ev: CompactionEvent) -> None:
        """A background summary's outcome, in the conversation: nobody waits for it, but the
        user should know whether it happened."""
        if ev.tier != "summary":
            return
        if ev.action == "failed":
            self.add_notice(f"compaction: the summary failed ({ev.detail}); nothing waited for "
                            "it, the conversation goes on as it is (old tool outputs are masked "
                            "when needed). /compact tries again.", "warning")
        elif ev.action == "ready":
            self.add_notice(f"compaction: summary ready, {ev.detail}")
