"""The real default model generating into the real app, vs the bare model, in the same run.

    python -m bench.inprocess                # 3 rounds of 256 tokens each way
    python -m bench.inprocess --rounds 1 --tokens 96

Bare: the in-process provider's stream consumed by a plain loop. With UI: the same provider behind
a Session in the headless NanobotApp (bridge batching, segmented MarkdownStream, side panels,
a live hardware sampler). Generation rate = completion tokens / time from first to last token, so
prompt processing is left out of both. Rounds alternate (bare, UI, bare, UI…) so load drifts
affect both alike; the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, TextDelta, TurnFinished, Usage
from app.core.agent.messages import Message
from app.core.agent.session import SessionOptions
from app.core.models.embedded import ensure_embedded
from app.core.providers.base import ProviderRequest, TextChunk, UsageChunk
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.settings.config import Config
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp

PROMPT = "Write a long, detailed story about a robot who learns to garden. Use many paragraphs."


async def bare(provider: LlamaInProcessProvider, max_tokens: int) -> tuple[int, float]:
    request = ProviderRequest(messages=(Message("system", "You are a storyteller."),
                                        Message("user", PROMPT)),
                              max_tokens=max_tokens, temperature=0.0)
    first = last = 0.0
    tokens = 0
    async for chunk in provider.stream(request, CancelToken()):
        if isinstance(chunk, TextChunk):
            now = time.perf_counter()
            first = first or now
            last = now
        elif isinstance(chunk, UsageChunk):
            tokens = chunk.completion_tokens
    return tokens, last - first


async def with_ui(provider: LlamaInProcessProvider, max_tokens: int) -> tuple[int, float]:
    factory = SessionFactory(Config(), provider,
                             options=SessionOptions(max_tokens=max_tokens, temperature=0.0),
                             features=())
    marks: dict[str, float] = {}
    tokens = 0

    def listen(ev: Event) -> None:
        nonlocal tokens
        if isinstance(ev, TextDelta):
            now = time.perf_counter()
            marks.setdefault("first", now)
            marks["last"] = now
        elif isinstance(ev, Usage):
            tokens = ev.completion_tokens
        elif isinstance(ev, TurnFinished):
            marks["done"] = time.perf_counter()

    app = NanobotApp(factory, blink=False)  # the real hardware sampler runs, as for a user
    app.session.add_listener(listen)
    async with app.run_test(size=(120, 40)) as pilot:
        app.flow.start_turn(PROMPT)
        await app.workers.wait_for_complete()
        await app.settle()
        await pilot.pause()
    return tokens, marks["last"] - marks["first"]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0 = all cores)")
    args = ap.parse_args()
    provider = LlamaInProcessProvider(ensure_embedded(), n_ctx=2048, n_threads=args.threads,
                                      temperature=0.0, seed=7, grammar_tool_calls=False,
                                      label="qwen2.5-coder-0.5b")
    await provider.load()
    await bare(provider, 8)  # warm-up: first-call costs are nobody's
    rates: dict[str, list[float]] = {"bare": [], "ui": []}
    for r in range(args.rounds):
        for name, fn in (("bare", bare), ("ui", with_ui)):
            n, span = await fn(provider, args.tokens)
            rate = (n - 1) / span if span > 0 and n > 1 else 0.0
            rates[name].append(rate)
            print(f"  round {r + 1} {name:4}: {n} tokens, {rate:5.1f} tok/s")
    b, u = statistics.median(rates["bare"]), statistics.median(rates["ui"])
    print(f"bench/inprocess: bare {b:.1f} tok/s, with UI {u:.1f} tok/s, "
          f"ratio {u / b:.3f} (target >= 0.95; per-token writes measured 0.84, 100 ms batching 0.97)")
    await provider.aclose()


if __name__ == "__main__":
    asyncio.run(main())
