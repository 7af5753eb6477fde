"""Message coalescing (N7): messages in quick succession become one turn, timing kept.

Messages that arrive while a turn runs, or within ``window_s`` of the first message of a batch (the
window is anchored to that first message, not sliding), are merged in order into one user turn:
``first`` then ``[+<ms since first>ms] <text>`` per later message. Slash commands are never merged:
they end the batch before them and run on their own, in order. Every original message is logged
(event ``MessageReceived``) before anything is merged, so nothing typed is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.core.agent.events import Event, register_event

log = logging.getLogger(__name__)


@register_event
@dataclass(frozen=True)
class MessageReceived(Event):
    """A user message exactly as it arrived, before any merging."""

    text: str


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


def merge(batch: list[tuple[float, str]]) -> str:
    """``[(arrival, text), …]`` as one turn's text, with each later message's offset."""
    t0, first = batch[0]
    parts = [first]
    parts += [f"[+{round((t - t0) * 1000)}ms] {text}" for t, text in batch[1:]]
    return "\n".join(parts)


class Coalescer:
    """Feeds submitted messages to ``run_turn`` and ``run_command``, one at a time, in order."""

    def __init__(self, run_turn: Callable[[str], Awaitable[object]],
                 run_command: Callable[[str], Awaitable[object]], *,
                 log_event: Callable[[Event], None] | None = None, window_s: float = 0.4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.run_turn = run_turn
        self.run_command = run_command
        self.log_event = log_event
        self.window_s = window_s
        self.clock = clock
        self._pending: deque[tuple[float, str]] = deque()
        self._arrived = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._batches = 0
        self.delivered: list[tuple[str, tuple[str, ...]]] = []  # (merged text, originals)

    @property
    def busy(self) -> bool:
        return self._runner is not None and not self._runner.done()

    def submit(self, text: str) -> None:
        """Take a message now; it runs as (part of) a turn as soon as the previous one ends."""
        if not text.strip():
            return
        if self.log_event is not None:
            self.log_event(MessageReceived("", text=text))
        self._pending.append((self.clock(), text))
        self._arrived.set()
        if not self.busy:
            self._runner = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Wait until everything submitted so far has run."""
        while self.busy:
            assert self._runner is not None
            await asyncio.shield(self._runner)

    async def _run(self) -> None:
        while self._pending:
            t0, first = self._pending.popleft()
            self._batches += 1
            if is_command(first):
                await self._deliver(self.run_command, first, (first,))
                continue
            batch = [(t0, first)]
            while True:
                while self._pending and not is_command(self._pending[0][1]):
                    batch.append(self._pending.popleft())
                if self._pending:  # a command comes next: it ends this batch
                    break
                remaining = t0 + self.window_s - self.clock()
                if remaining <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    break
            await self._deliver(self.run_turn, merge(batch), tuple(t for _, t in batch))

    async def _deliver(self, fn: Callable[[str], Awaitable[object]], text: str,
                       originals: tuple[str, ...]) -> None:
        self.delivered.append((text, originals))
        try:
            await fn(text)
        except Exception:  # one failed turn must not stop the messages queued behind it
            log.exception("coalesced delivery failed")
