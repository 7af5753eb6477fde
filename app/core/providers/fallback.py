"""A provider that is a chain of providers: retry, fall back, and tell the user each time.

Per provider in order: skip it while its circuit breaker is open; stream; on a 429/5xx retry on the
same provider after the server's ``Retry-After`` (or an exponential backoff); on anything else move
to the next provider. Every retry, skip and fallback is yielded as a :class:`NoticeChunk`, so the
user sees it in the conversation; when a provider dies mid-reply the notice carries
``restart=True`` and the next attempt starts the reply again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import httpx

from app.core.agent.cancel import CancelToken
from app.core.providers.base import (
    Capabilities,
    NoticeChunk,
    Provider,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
)
from app.core.providers.resilience import AUTH_STATUSES, BreakerBoard, RetryPolicy, retry_same

log = logging.getLogger(__name__)

Sleep = Callable[[float, CancelToken], Awaitable[bool]]


async def cancellable_sleep(delay: float, cancel: CancelToken) -> bool:
    """Wait ``delay`` seconds; returns True if ``cancel`` fired first."""
    try:
        await asyncio.wait_for(cancel.wait(), delay)
    except TimeoutError:
        return False
    return True


def describe(provider: Provider) -> str:
    return provider.name if not provider.model or provider.model in provider.name \
        else f"{provider.name} ({provider.model})"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 160 else text[:160] + "…"


class FallbackProvider:
    """``stream`` tries each provider of ``chain`` in turn (see the module docstring)."""

    def __init__(self, chain: Sequence[Provider], *, role: str = "main",
                 breakers: BreakerBoard | None = None, policy: RetryPolicy | None = None,
                 sleep: Sleep | None = None) -> None:
        if not chain:
            raise ValueError("a fallback chain needs at least one provider")
        self.chain = list(chain)
        self.role = role
        self.breakers = breakers or BreakerBoard()
        self.policy = policy or RetryPolicy()
        self._sleep = sleep or cancellable_sleep
        self.active: Provider = self.chain[0]
        self.name = f"{role}→{self.chain[0].name}" if len(self.chain) > 1 else self.chain[0].name
        # Plain attributes (the Provider protocol's shape), following whichever provider last
        # answered: the session reads the context window and quirks from here.
        self.model = self.active.model
        self.capabilities: Capabilities = self.active.capabilities

    def _next_open(self, after: int) -> Provider | None:
        for p in self.chain[after + 1:]:
            if self.breakers.get(p.name).allow():
                return p
        return None

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        errors: list[str] = []
        last: ProviderError | None = None
        for idx, provider in enumerate(self.chain):
            breaker = self.breakers.get(provider.name)
            if not breaker.allow():
                errors.append(breaker.describe())
                if len(self.chain) > 1:
                    yield NoticeChunk(f"skipping {describe(provider)}: {breaker.describe()}",
                                      level="info")
                continue
            attempt = 0
            replied = False  # some try on this provider already streamed part of a reply
            # Tries on this provider: the retry policy's, but never more than its breaker takes.
            tries = min(self.policy.max_retries + 1, breaker.tries_left())
            while True:
                attempt += 1
                got_output = False
                try:
                    async for ev in provider.stream(request, cancel):
                        if isinstance(ev, TextChunk | ReasoningChunk | ToolCallChunk):
                            got_output = True
                        yield ev
                    if cancel.cancelled:
                        return
                    breaker.record_success()
                    self.active = provider
                    self.model, self.capabilities = provider.model, provider.capabilities
                    return
                except Exception as raw:
                    if cancel.cancelled:
                        return
                    replied = replied or got_output
                    if not isinstance(raw, ProviderError | httpx.HTTPError | OSError):
                        # A provider bug is still this provider failing: the chain goes on.
                        log.exception("%s crashed", provider.name)
                    exc = raw if isinstance(raw, ProviderError) else ProviderError(
                        f"{provider.name}: {type(raw).__name__}: {raw}", retryable=True)
                    auth = exc.status in AUTH_STATUSES
                    breaker.record_failure(_short(exc), auth=auth)
                    log.warning("%s failed (attempt %d): %s", provider.name, attempt, exc)
                    if (attempt < tries and retry_same(exc, self.policy, attempt)
                            and breaker.allow()):
                        delay = self.policy.delay(attempt, exc.retry_after)
                        why = f"answered {exc.status}" + (
                            f" with Retry-After {exc.retry_after:g} s"
                            if exc.retry_after is not None else "") if exc.status else (
                            f"failed ({_short(exc)})")
                        yield NoticeChunk(
                            f"{describe(provider)} {why}; retrying in {delay:.1f} s "
                            f"(try {attempt + 1} of {tries})",
                            level="warning", restart=got_output)
                        if await self._sleep(delay, cancel):
                            return
                        continue
                    short = _short(exc)
                    errors.append(short if short.startswith(provider.name) else
                                  f"{provider.name}: {short}")
                    last = exc
                    nxt = self._next_open(idx)
                    if nxt is not None:
                        where = "mid-reply" if replied else "before answering"
                        yield NoticeChunk(
                            f"{describe(provider)} failed {where} ({_short(exc)}); "
                            f"continuing on {describe(nxt)}", level="warning",
                            restart=got_output)
                    elif got_output:
                        yield NoticeChunk(f"{describe(provider)} failed mid-reply "
                                          f"({_short(exc)})", level="error", restart=True)
                    break
        if len(errors) == 1 and last is not None:
            raise last  # one provider tried: its own message (e.g. which key to set) is best
        raise ProviderError(f"every provider for {self.role} failed: " + "; ".join(errors))

    async def aclose(self) -> None:
        for p in self.chain:
            try:
                await p.aclose()
            except Exception:
                log.exception("closing %s failed", p.name)
