"""The one place where core events become Textual messages, and UI commands reach the core.

Text and reasoning deltas are coalesced: the first delta of a burst starts a timer of
:data:`FLUSH_SECONDS`, and when it fires the buffered deltas go out merged into one event per run
of the same kind. Every other event flushes the buffer first and is delivered at once, so order is
kept and a cancel or a tool call is never held back by the timer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.message import Message

from app.core.agent.events import Event, ReasoningDelta, TextDelta

if TYPE_CHECKING:  # the rest of the core loads after the first frame (see app/tui/boot.py)
    from textual.app import App

    from app.core.agent.session import Session, TurnOutcome
    from app.core.models.hardware import HardwareSampler, HardwareSnapshot

# 100 ms reads as live: one Markdown append (and one layout pass) per batch, 10 a second.
FLUSH_SECONDS = 0.1


class CoreEvent(Message):
    """A core event delivered on the UI thread (deltas arrive merged)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class HardwareSampled(Message):
    def __init__(self, snapshot: HardwareSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


def merge_deltas(events: list[Event]) -> list[Event]:
    """Join runs of TextDelta / ReasoningDelta of the same turn into single events."""
    out: list[Event] = []
    run: list[TextDelta | ReasoningDelta] = []

    def close_run() -> None:
        if run:
            last = run[-1]
            text = "".join(d.text for d in run)
            out.append(TextDelta(last.turn_id, text, ts=last.ts) if isinstance(last, TextDelta)
                       else ReasoningDelta(last.turn_id, text, ts=last.ts))
            run.clear()

    for ev in events:
        if isinstance(ev, TextDelta | ReasoningDelta):
            if run and (type(run[-1]) is not type(ev) or run[-1].turn_id != ev.turn_id):
                close_run()
            run.append(ev)
        else:
            close_run()
            out.append(ev)
    close_run()
    return out


class SessionBridge:
    def __init__(self, app: App[Any], session: Session, *,
                 flush_seconds: float = FLUSH_SECONDS) -> None:
        self.app = app
        self.session = session
        self.flush_seconds = flush_seconds
        self._buffer: list[Event] = []
        self._timer: asyncio.TimerHandle | None = None
        self._unsubscribe = session.add_listener(self._forward)
        self.batches = 0  # delta batches delivered (benchmarks read it)

    # --- core → UI -----------------------------------------------------------------------

    def _forward(self, event: Event) -> None:
        if isinstance(event, TextDelta | ReasoningDelta):
            self._buffer.append(event)
            if self._timer is None:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:  # a listener called off-loop: deliver straight away
                    self.flush()
                    return
                self._timer = loop.call_later(self.flush_seconds, self.flush)
            return
        self.flush()
        self.app.post_message(CoreEvent(event))

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        batch, self._buffer = merge_deltas(self._buffer), []
        self.batches += 1
        for ev in batch:
            self.app.post_message(CoreEvent(ev))

    # --- UI → core -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session.running

    async def submit(self, text: str) -> TurnOutcome:
        return await self.session.run_turn(text)

    def cancel(self) -> bool:
        return self.session.cancel()

    def inject(self, text: str) -> bool:
        return self.session.inject(text)

    def take_steers(self) -> list[str]:
        return self.session.take_steers()

    def set_thinking(self, on: bool, budget: int | None = None) -> None:
        self.session.thinking = on
        self.session.thinking_budget = budget

    # Workers: commands for the swarm pane.
    def cancel_worker(self, worker_id: str) -> list[str]:
        swarm = self.session.swarm
        return swarm.cancel(worker_id) if swarm is not None else []

    def worker_transcript(self, worker_id: str) -> tuple[tuple[str, str], ...]:
        swarm = self.session.swarm
        return swarm.transcript(worker_id) if swarm is not None else ()

    def close(self) -> None:
        self._unsubscribe()
        self.flush()


def feed_hardware(app: App[Any], sampler: HardwareSampler) -> HardwareSampler:
    """Start ``sampler``; each snapshot reaches ``app`` as a :class:`HardwareSampled` message
    (posted from the sampler's thread, which ``post_message`` allows)."""
    def deliver(snap: HardwareSnapshot) -> None:
        app.post_message(HardwareSampled(snap))

    sampler.add_listener(deliver)
    sampler.start()
    return sampler
