"""A pool of model endpoints that serves the samples of a round concurrently.

Endpoints are providers: the in-process llama.cpp model (one sample at a time) or any
OpenAI-compatible server (several ``python -m llama_cpp.server`` instances, vLLM on other machines).
Every sample of a process uses the same system prompt and the same strategy text before the state,
so a server's prompt cache reuses the shared prefix.

An endpoint that fails (connection refused, timeout, a 5xx) is marked dead and its sample is issued
again elsewhere; a dead endpoint is tried again after ``revive_after`` seconds. Votes are unaffected:
a sample counts once, whichever endpoint produced it. Only when every endpoint has failed does the
pool raise :class:`SamplerError`, which stops the process where it can be resumed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.process.samplers import SampleRequest, SamplerError, SampleResult
from app.core.providers.base import (
    FinishChunk,
    Provider,
    ProviderError,
    ProviderRequest,
    TextChunk,
    UsageChunk,
)

log = logging.getLogger(__name__)

# The request field that carries a GBNF grammar, per server family ("" = the server takes none).
GRAMMAR_FIELDS = {"llama": "grammar", "vllm": "guided_grammar", "none": ""}


@dataclass
class PoolMember:
    """One place the pool sends samples to (a server, or the in-process model) and its health.
    (The provider registry's ``Endpoint`` is another thing: a provider configured or found.)"""

    name: str
    provider: Provider
    parallel: int = 1
    grammar_field: str = "grammar"
    alive: bool = True
    dead_since: float = 0.0
    last_error: str = ""
    in_flight: int = 0
    served: int = 0
    failures: int = 0


class EndpointPool:
    def __init__(self, endpoints: Sequence[PoolMember], *, label: str = "",
                 revive_after: float = 30.0) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.endpoints = list(endpoints)
        self.label = label or self.endpoints[0].provider.model
        self.revive_after = revive_after
        self._free = asyncio.Condition()

    @property
    def capacity(self) -> int:
        """How many samples the pool can have in flight at once."""
        return sum(ep.parallel for ep in self.endpoints)

    # --- choosing an endpoint ------------------------------------------------------------------

    def _usable(self, exclude: set[str]) -> list[PoolMember]:
        now = time.monotonic()
        for ep in self.endpoints:
            if not ep.alive and now - ep.dead_since >= self.revive_after:
                ep.alive = True  # worth another try: it may have been restarted
        return [ep for ep in self.endpoints if ep.alive and ep.name not in exclude]

    async def _acquire(self, exclude: set[str]) -> PoolMember:
        async with self._free:
            while True:
                usable = self._usable(exclude)
                if not usable:
                    usable = self._usable(set())  # every endpoint failed this sample: retry any
                    if not usable:
                        errors = "; ".join(f"{ep.name}: {ep.last_error}" for ep in self.endpoints)
                        raise SamplerError(f"all {len(self.endpoints)} endpoint(s) failed ({errors})")
                ready = [ep for ep in usable if ep.in_flight < ep.parallel]
                if ready:
                    ep = min(ready, key=lambda e: (e.in_flight / e.parallel, e.served))
                    ep.in_flight += 1
                    return ep
                await self._free.wait()

    async def _release(self, ep: PoolMember) -> None:
        async with self._free:
            ep.in_flight -= 1
            self._free.notify_all()

    # --- sampling ----------------------------------------------------------------------------

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]:
        tasks = [asyncio.ensure_future(self._one(r, cancel)) for r in requests]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            # One sample could not be had anywhere: do not leave its siblings running.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _one(self, req: SampleRequest, cancel: CancelToken) -> SampleResult:
        failed: set[str] = set()
        while True:
            ep = await self._acquire(failed)
            try:
                result = await self._call(ep, req, cancel)
            except (ProviderError, OSError) as exc:
                if cancel.cancelled:
                    raise
                ep.failures += 1
                ep.alive, ep.dead_since, ep.last_error = False, time.monotonic(), str(exc)[:200]
                log.warning("endpoint %s failed (%s); re-issuing step %d sample %d", ep.name,
                            exc, req.step, req.idx)
                failed.add(ep.name)
                continue
            finally:
                await self._release(ep)
            ep.served += 1
            if failed:
                result = SampleResult(result.text, result.tokens, result.finish, result.endpoint,
                                      result.seconds, reissued=len(failed))
            return result

    async def _call(self, ep: PoolMember, req: SampleRequest, cancel: CancelToken) -> SampleResult:
        extra: dict[str, object] = {"seed": req.seed}
        if req.prompt.grammar and ep.grammar_field:
            extra[ep.grammar_field] = req.prompt.grammar
        request = ProviderRequest(
            messages=(Message(role="system", content=req.prompt.system),
                      Message(role="user", content=req.prompt.user)),
            max_tokens=req.max_tokens, temperature=req.temperature, extra=extra,
            allow_empty=True)  # an empty sample is red-flagged like any bad one, not a dead server
        started = time.perf_counter()
        parts: list[str] = []
        tokens, finish = -1, "stop"
        async for ev in ep.provider.stream(request, cancel):
            if isinstance(ev, TextChunk):
                parts.append(ev.text)
            elif isinstance(ev, UsageChunk):
                tokens = ev.completion_tokens
            elif isinstance(ev, FinishChunk):
                finish = ev.reason
        return SampleResult("".join(parts), tokens, finish, ep.name,
                            time.perf_counter() - started)

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await ep.provider.aclose()
