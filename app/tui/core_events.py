"""What the App does with the core's events and the status line: each event folded into the
conversation, the turn state and the context meter kept current, the status bar redrawn (at most
twice a second while text streams).

A mixin of :class:`app.tui.app.NanobotApp` (Textual finds message handlers and watchers through the
class's MRO), kept apart so the App module stays about wiring.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.core.agent.events import (
    ErrorReported,
    Injected,
    Notice,
    ReasoningDelta,
    TextDelta,
    TurnStarted,
    Usage,
)
from app.tui.bridge import CoreEvent
from app.tui.turn_state import IDLE, WAITING, TurnState, state_after

if TYPE_CHECKING:
    from textual.app import App
    from textual.reactive import reactive

    from app.core.agent.session import Session
    from app.core.context.compaction import CompactionEvent
    from app.core.providers.stack import Stack
    from app.core.store.pending import PendingStore
    from app.core.swarm.events import SwarmUpdated
    from app.tui.prompt_flow import PromptFlow
    from app.tui.transcript import TranscriptFold
    from widgets.context_meter import ContextMeter
    from widgets.hardware_panel import HardwarePanel
    from widgets.prompt_input import PromptInput
    from widgets.status_bar import StatusBar

    _AppBase = App[None]  # the App it is mixed into; at run time a plain class
else:
    _AppBase = object

STATUS_EVERY = 0.5  # seconds between status/meter redraws while text streams


class CoreEventView(_AppBase):
    if TYPE_CHECKING:  # provided by the App
        thinking: reactive[bool]
        busy: reactive[bool]
        turn_state: reactive[TurnState]
        session: Session
        stack: Stack | None
        fold: TranscriptFold
        flow: PromptFlow
        meter: ContextMeter
        prompt: PromptInput
        status_bar: StatusBar
        hardware_panel: HardwarePanel
        pending: PendingStore
        attachments: list[str]
        _ctx_used: int
        _ctx_streamed: int
        _status_at: float

        @property
        def attached(self) -> bool: ...

        async def _show_swarm(self, ev: SwarmUpdated) -> None: ...

        def _compaction_notice(self, ev: CompactionEvent) -> None: ...

    async def on_core_event(self, message: CoreEvent) -> None:
        ev = message.event
        self.fold.apply(ev)
        state = state_after(ev)
        if isinstance(ev, TextDelta | ReasoningDelta):
            self._ctx_streamed += len(ev.text)
            # The meter's estimate grows with every batch: redraw it twice a second, not ten
            # times (the side panels cost more per frame than the new text).
            if state is not None and state != self.turn_state:
                self.turn_state = state  # its watcher redraws the status
            elif time.monotonic() - self._status_at >= STATUS_EVERY:
                self.refresh_status()
            return
        if state is not None:
            self.turn_state = state
            if state == IDLE and self.screen_stack:  # (none left when the app is closing)
                self.refresh_bindings()  # the footer drops "esc esc Cancel" with this frame
        if isinstance(ev, Usage):
            self._ctx_used, self._ctx_streamed = ev.context_used, 0
        elif isinstance(ev, TurnStarted):
            self._ctx_streamed += len(ev.text)
        elif isinstance(ev, Injected):
            self.flow.steer_delivered(ev.text)
        elif isinstance(ev, Notice | ErrorReported):
            if self.turn_state.state == "waiting":
                # Retries, fallbacks, routing: what the wait is about, on the status line too.
                text = ev.text if isinstance(ev, Notice) else ev.message
                self.turn_state = TurnState("waiting", text if len(text) <= 60
                                            else text[:59] + "…")
        elif state is None:
            from app.core.context.compaction import CompactionEvent, ContextMeasured
            from app.core.swarm.events import SwarmUpdated

            if isinstance(ev, SwarmUpdated):
                await self._show_swarm(ev)
            elif isinstance(ev, CompactionEvent):
                manager = self.session.compaction
                self.meter.last_tier = (manager.last_tier if manager is not None else "") or ev.tier
                self._compaction_notice(ev)
            elif isinstance(ev, ContextMeasured):  # what this request sends, after compaction
                self._ctx_used, self._ctx_streamed = ev.sent_tokens, 0
                self.meter.stored = ev.stored_tokens
        self.refresh_status()

    def watch_busy(self, busy: bool) -> None:
        self.prompt.set_busy(busy)
        # The status bar says what happens from the frame Enter is drawn in, before the core's
        # first event arrives.
        self.turn_state = WAITING if busy else IDLE
        self.refresh_bindings()
        self.refresh_status()

    def watch_turn_state(self) -> None:
        self.refresh_status()

    def _estimate_history(self) -> int:
        """Before the first request: what the next one will send is at most the window (the
        compaction tiers see to that); the rest of a long session is shown as stored."""
        stored = self.session.context_estimate()
        self.meter.stored = stored
        return min(stored, self.session.context_limit)

    def context_estimate(self) -> tuple[int, int]:
        """(counted, estimated): the last real count, and text not counted yet."""
        if not self.attached:
            return 0, 0
        tokens = self.session.tokens
        pending = sum(tokens.tokens(i.text) for i in self.pending)
        pending += sum(tokens.tokens(a) for a in self.attachments)
        return self._ctx_used, tokens.for_chars(self._ctx_streamed) + pending

    def refresh_status(self) -> None:
        self._status_at = time.monotonic()
        if not self.attached:
            self.status_bar.set(state="starting", detail="loading the model and tools",
                                model="…", thinking="…", context="", session="")
            return
        meter = self.meter
        used, estimated = self.context_estimate()
        meter.set_usage(used, self.session.context_limit, estimated)
        if self.thinking:
            budget = self.session.thinking_budget
            think = f"on ({budget:,})" if budget else "on"
            if not self.session.provider.capabilities.supports_thinking:
                think += " · model can't"
        else:
            think = "off"
        manager = self.session.compaction
        self.status_bar.set(
            state=self.turn_state.state, detail=self.turn_state.detail,
            model=self.session.provider.model, thinking=think,
            context=f"{meter.percent:.0f}%", session=self.session.session_id,
            background="summarising" if manager is not None and manager.task else "")

    def model_changed(self) -> None:
        """The session's provider changed (or was attached): the side panel and the header."""
        from app.tui.model_ops import model_detail

        provider = self.session.provider
        self.hardware_panel.set_model(provider.model, model_detail(provider, self.stack))
        self.sub_title = provider.model  # the dashboard's and doctor's header show it
        self.refresh_status()
