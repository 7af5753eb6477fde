"""The memory slot's model for background work (the briefing), with timeouts that fit its speed.

Which model: the ``memory`` slot when one is configured; else the main provider when it is remote
(a second local model would only compete with it for the machine); else its own instance of the
local main model, so background work never waits on the user's turn for the generation lock.

A fixed timeout is wrong both ways on local models: too short on a slow CPU (every briefing times
out), too long on a fast one (a hung model holds the slot for minutes). So each call is timed:
prompt reading (to the first output) and generation rates are tracked, and the next call's timeout
is a generous multiple of what it should take at those rates. Until a call was measured, the first
one (which may also load the model) gets :data:`FIRST_CALL_S`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.providers.base import (
    Provider,
    ProviderError,
    ProviderRequest,
    TextChunk,
    UsageChunk,
)
from app.core.wire.think import ThinkSplitter

FIRST_CALL_S = 600.0  # local: may include loading the model on a slow machine
REMOTE_S = 120.0
MARGIN = 3.0  # times the expected duration
FLOOR_S, CEILING_S = 20.0, 900.0


class MemoryModelError(Exception):
    """The memory model failed or timed out; the message says which."""


@dataclass
class Speed:
    """Tokens per second, smoothed over calls (None until measured)."""

    read: float | None = None  # prompt tokens per second
    write: float | None = None  # generated tokens per second

    def add(self, prompt_tokens: int, completion_tokens: int, first_s: float,
            total_s: float) -> None:
        def blend(old: float | None, new: float) -> float:
            return new if old is None else 0.5 * old + 0.5 * new

        if prompt_tokens > 0 and first_s > 0:
            self.read = blend(self.read, prompt_tokens / first_s)
        gen_s = total_s - first_s
        if completion_tokens > 1 and gen_s > 0:
            self.write = blend(self.write, (completion_tokens - 1) / gen_s)


class MemoryModel:
    def __init__(self, make: Callable[[], Provider], *, local: bool, timeout_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._make = make
        self._provider: Provider | None = None
        self._lock = threading.Lock()
        self.local = local
        self.fixed_timeout = timeout_s
        self.speed = Speed()
        self.clock = clock

    def get(self) -> Provider:
        """The provider, made on first use (thread-safe: the summariser may ask from a thread)."""
        with self._lock:
            if self._provider is None:
                self._provider = self._make()
                if self.local and hasattr(self._provider, "background"):
                    self._provider.background = True  # lowest CPU priority where supported
            return self._provider

    def timeout_for(self, prompt_tokens: int, max_tokens: int) -> float:
        if self.fixed_timeout > 0:
            return self.fixed_timeout
        if not self.local:
            return REMOTE_S
        if self.speed.read is None or self.speed.write is None:
            return FIRST_CALL_S
        expected = prompt_tokens / self.speed.read + max_tokens / self.speed.write
        return max(FLOOR_S, min(CEILING_S, MARGIN * expected))

    async def complete(self, messages: Sequence[Message], *, max_tokens: int,
                       cancel: CancelToken | None = None, temperature: float = 0.3) -> str:
        """The model's whole reply (thinking removed); raises :class:`MemoryModelError`."""
        provider = await asyncio.to_thread(self.get)
        cancel = cancel or CancelToken()
        request = ProviderRequest(messages=tuple(messages), max_tokens=max_tokens,
                                  temperature=temperature)
        estimate = sum(len(m.content) for m in messages) // 3
        timeout = self.timeout_for(estimate, max_tokens)
        pieces: list[str] = []
        usage: list[int] = [0, 0]
        start, first = self.clock(), 0.0

        async def collect() -> None:
            nonlocal first
            async for chunk in provider.stream(request, cancel):
                if isinstance(chunk, TextChunk):
                    first = first or self.clock() - start
                    pieces.append(chunk.text)
                elif isinstance(chunk, UsageChunk):
                    usage[:] = [chunk.prompt_tokens, chunk.completion_tokens]

        try:
            async with asyncio.timeout(timeout):
                await collect()
        except TimeoutError:
            cancel.cancel("the memory model timed out")
            raise MemoryModelError(f"the memory model timed out after {timeout:.0f} s") from None
        except ProviderError as exc:
            raise MemoryModelError(f"the memory model failed: {exc}") from exc
        if cancel.cancelled:
            raise MemoryModelError(f"cancelled: {cancel.reason}")
        self.speed.add(usage[0] or estimate, usage[1] or len(pieces), first,
                       self.clock() - start)
        splitter = ThinkSplitter()
        visible, _ = splitter.feed("".join(pieces))
        rest, _ = splitter.flush()
        return (visible + rest).strip()
