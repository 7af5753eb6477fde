"""A pass-through provider that measures generation speed for the dashboard."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from app.core.agent.cancel import CancelToken
from app.core.providers.base import (
    Capabilities,
    Provider,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)

SpeedSink = Callable[[float], None]


class MeteredProvider:
    """Reports completion tokens per second from the first output to the end of each reply."""

    def __init__(self, inner: Provider, on_speed: SpeedSink, *, name: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self._name = name
        self._on_speed = on_speed
        self._clock = clock
        self._sync()

    def _sync(self) -> None:
        self.name: str = self._name or self.inner.name
        self.model: str = self.inner.model
        self.capabilities: Capabilities = self.inner.capabilities

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        first: float | None = None
        completion = 0
        pieces = 0
        async for ev in self.inner.stream(request, cancel):
            if isinstance(ev, TextChunk | ReasoningChunk | ToolCallChunk):
                pieces += 1
                if first is None:
                    first = self._clock()
            elif isinstance(ev, UsageChunk):
                completion = ev.completion_tokens
            yield ev
        self._sync()  # a fallback chain inside may have switched providers
        if first is not None:
            elapsed = self._clock() - first
            tokens = completion or pieces  # servers without usage: one chunk ~ one token
            if elapsed > 0 and tokens > 1:
                self._on_speed((tokens - 1) / elapsed)

    async def aclose(self) -> None:
        await self.inner.aclose()
