"""Failover latency: how long the user waits for text after a server dies mid-reply.

Two ``python -m llama_cpp.server`` instances with the bundled model. Baseline: time to first token
streaming from server B directly (B's prompt cache cleared by a different prompt each run).
Failover: stream from the chain [A, B], kill A's process group after its first token, and time
from the kill to B's first token. Prints medians and the failover/baseline ratio; also how long
the watchdog takes to bring A back.

Usage: python bench/failover.py [--runs 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.models.embedded import ensure_embedded
from app.core.models.server import (
    Backoff,
    ManagedServer,
    ServerSpec,
    ServerState,
    ServerStatus,
)
from app.core.providers.base import NoticeChunk, ProviderRequest, TextChunk
from app.core.providers.fallback import FallbackProvider
from app.core.providers.openai_http import OpenAIHTTPProvider


def request(i: int) -> ProviderRequest:
    text = f"Run {i}: count from 1 to 30, separated by commas."
    return ProviderRequest(messages=(Message(role="user", content=text),), max_tokens=40,
                           temperature=0.0)


async def ttft(provider: OpenAIHTTPProvider, i: int) -> float:
    t0 = time.perf_counter()
    async for ev in provider.stream(request(i), CancelToken()):
        if isinstance(ev, TextChunk):
            return time.perf_counter() - t0
    return float("nan")


async def failover_once(chain: FallbackProvider, first: ManagedServer,
                        i: int) -> tuple[float, float]:
    """(seconds from killing ``first`` after its first token to the next provider's first token
    of the restarted reply, the moment of the kill)."""
    killed_at = 0.0
    restarted = False
    async for ev in chain.stream(request(100 + i), CancelToken()):
        if isinstance(ev, NoticeChunk) and ev.restart:
            restarted = True
        elif isinstance(ev, TextChunk):
            if not killed_at:
                first.kill_process()
                killed_at = time.perf_counter()
            elif restarted:
                return time.perf_counter() - killed_at, killed_at
    return float("nan"), killed_at


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the expected "a failed" warnings stay quiet
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    model = ensure_embedded()
    logs = Path(tempfile.mkdtemp(prefix="nanobot-bench-"))
    spec = ServerSpec(model_path=model, context=1024, threads=args.threads)
    a = ManagedServer("bench-a", spec, log_dir=logs, backoff=Backoff(initial=0.2))
    b = ManagedServer("bench-b", spec, log_dir=logs)
    await asyncio.gather(a.start(), b.start())
    try:
        pa = OpenAIHTTPProvider(a.base_url, model.stem, name="a")
        pb = OpenAIHTTPProvider(b.base_url, model.stem, name="b")
        base = [await ttft(pb, i) for i in range(args.runs)]
        gaps, restarts = [], []
        for i in range(args.runs):
            chain = FallbackProvider([pa, pb], role="bench")
            back = asyncio.Event()
            ready_at: list[float] = []

            def on_status(st: ServerStatus, ev: asyncio.Event = back,
                          at: list[float] = ready_at) -> None:
                if st.state is ServerState.READY:
                    at.append(time.perf_counter())
                    ev.set()

            off = a.add_listener(on_status)
            gap, killed_at = await failover_once(chain, a, i)
            gaps.append(gap)
            await back.wait()
            off()
            restarts.append(ready_at[0] - killed_at)
        b_med, g_med = statistics.median(base), statistics.median(gaps)
        print(f"baseline time to first token on B: median {b_med * 1000:.0f} ms "
              f"({', '.join(f'{x * 1000:.0f}' for x in base)})")
        print(f"failover: kill of A to first token from B: median {g_med * 1000:.0f} ms "
              f"({', '.join(f'{x * 1000:.0f}' for x in gaps)})")
        print(f"ratio failover/baseline: {g_med / b_med:.2f}")
        print(f"watchdog: A ready again a median {statistics.median(restarts):.1f} s after the kill "
              f"(restarts so far: {a.status.restarts})")
        await pa.aclose()
        await pb.aclose()
    finally:
        await asyncio.gather(a.stop(), b.stop())


if __name__ == "__main__":
    asyncio.run(main())
