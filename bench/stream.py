"""Streaming a long Markdown reply into the conversation pane, against two baselines in the same run.

    python -m bench.stream                 # the full run (20,000 tokens; several minutes)
    python -m bench.stream --quick         # a short proof run
    python -m bench.stream --terminal      # the real-terminal mode (bench/stream_terminal.py)
    python -m bench.stream --memory        # RSS per 1,000 blocks of history, drawn or not

Ours: a 20,000-token reply (headings, lists, tables, code fences) streamed as fast as possible by a
provider through the real Session, the bridge (batched deltas) and the conversation view (Line API,
blocks drawn once, the reply's last Markdown block drawn per batch), after a long existing
transcript. Baselines: one plain ``MarkdownStream`` fed per token, and ``Markdown.update(full_text)``
per token on the first 500 tokens. Then CPU use at a model-like 50 tok/s, ours vs the plain
per-token stream. A token "arrives" when its text is drawn (ours: the reply block's lines hold it;
the baselines: the Markdown append that holds it has completed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from textual.app import App, ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from app.core.agent.cancel import CancelToken
from app.core.models.hardware import fixed_snapshot
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    ProviderEvent,
    ProviderRequest,
    TextChunk,
    UsageChunk,
)
from app.core.settings.config import Config
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from widgets.blocks import Block
from widgets.conversation import Conversation

SIZE = (100, 40)

SECTION = """## Section {n}: streaming notes

This paragraph has **bold text**, some `inline code` and a [link](https://example.com/{n}) so the
parser has inline work to do on every line of it.

- first point about item {n}
  - a nested point
- second point with `code`

1. numbered one
2. numbered two

| key | value | note |
|-----|-------|------|
| a{n} | {n} | first |
| b{n} | {n}0 | second |

```python
def handler_{n}(event):
    total = 0
    for item in event.items:
        total += item.size
    return total
```

> A quoted remark number {n}.

"""


def make_tokens(n_tokens: int) -> list[str]:
    """Fragments of at most 6 characters, like a tokenizer's output."""
    tokens: list[str] = []
    n = 0
    while len(tokens) < n_tokens:
        text = SECTION.format(n=n)
        tokens.extend(text[i:i + 6] for i in range(0, len(text), 6))
        n += 1
    return tokens[:n_tokens]


def history_events(blocks: int) -> list[Any]:
    """``blocks`` conversation blocks as a session log holds them: questions and replies."""
    from app.core.agent.events import TextDelta, TurnFinished, TurnStarted

    events: list[Any] = []
    for i in range(blocks // 2):
        tid = f"h{i}"
        text = SECTION.format(n=1000 + i)
        events += [TurnStarted(tid, text=f"Question {i}: how does part {i} work?"),
                   TextDelta(tid, text), TurnFinished(tid, text=text)]
    return events


@dataclass
class Tracker:
    """Records (characters rendered so far, time) whenever an append completes."""

    marks: list[tuple[int, float]] = field(default_factory=list)
    chars: int = 0

    def wrap(self, append: Callable[[str], AwaitComplete]) -> Callable[[str], AwaitComplete]:
        def timed(markdown: str) -> AwaitComplete:
            inner = append(markdown)

            async def done() -> None:
                await inner
                self.chars += len(markdown)
                self.marks.append((self.chars, time.perf_counter()))

            return AwaitComplete(done())

        return timed

    def arrival_times(self, tokens: list[str]) -> list[float]:
        out: list[float] = []
        ends = []
        total = 0
        for t in tokens:
            total += len(t)
            ends.append(total)
        j = 0
        for end in ends:
            while j < len(self.marks) and self.marks[j][0] < end:
                j += 1
            out.append(self.marks[min(j, len(self.marks) - 1)][1] if self.marks else 0.0)
        return out


@dataclass
class Result:
    name: str
    tokens: int
    t0: float
    arrivals: list[float]
    frames: list[float]
    cpu: float

    def rate(self, a: int, b: int) -> float:
        start = self.t0 if a == 0 else self.arrivals[a - 1]
        span = self.arrivals[b - 1] - start
        return (b - a) / span if span > 0 else float("inf")

    @property
    def wall(self) -> float:
        return self.arrivals[-1] - self.t0

    def summary(self) -> dict[str, float]:
        n = self.tokens
        k = min(1000, n // 2)
        gaps = [b - a for a, b in zip(self.frames, self.frames[1:], strict=False)] or [0.0]
        gaps.sort()
        return {"overall": self.rate(0, n), "first": self.rate(0, k), "last": self.rate(n - k, n),
                "p50_ms": 1000 * statistics.median(gaps),
                "p99_ms": 1000 * gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))],
                "cpu_s": self.cpu, "wall_s": self.wall}


def frame_clock(app: App[Any]) -> list[float]:
    """Times at which Textual produced a screen update (headless apps compute them too)."""
    frames: list[float] = []
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original(screen, renderable)

    app._display = display  # type: ignore[method-assign]
    return frames


# --- ours ---------------------------------------------------------------------------------------


class Firehose:
    """A provider whose tokens come from a thread, like the in-process model's: as fast as the
    thread can go (the UI then renders whatever has arrived), or paced at ``rate`` tok/s."""

    name = "bench"
    model = "firehose"

    def __init__(self, tokens: list[str], rate: float | None = None) -> None:
        self.tokens = tokens
        self.rate = rate
        self.capabilities = Capabilities(supports_tools=False, context_window=10_000_000)

    def _produce(self, put: Callable[[object], None]) -> None:
        start = time.perf_counter()
        for i, tok in enumerate(self.tokens):
            if self.rate:
                delay = start + i / self.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)  # a model thread between tokens
            put(tok)
        put(None)

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        threading.Thread(target=self._produce,
                         args=(lambda item: loop.call_soon_threadsafe(queue.put_nowait, item),),
                         daemon=True).start()
        while (item := await queue.get()) is not None:
            yield TextChunk(str(item))
        yield UsageChunk(10, len(self.tokens))
        yield FinishChunk("stop")

    async def aclose(self) -> None:
        return None


async def run_ours(tokens: list[str], history_blocks: int, rate: float | None = None) -> Result:
    factory = SessionFactory(Config(), Firehose(tokens, rate), features=())
    # Fixed hardware numbers: no sampler thread competing for the CPU being measured.
    app = NanobotApp(factory, blink=False, hardware=fixed_snapshot(cpu_percent=0.0, cores=1),
                     resumed_events=history_events(history_blocks))
    tracker = Tracker()
    original = Conversation.changed

    def patched(self: Conversation, block: Block) -> None:
        original(self, block)  # draws the block when it is on screen, as a streaming reply is
        if block.kind == "assistant" and block.text:
            tracker.chars = len(block.text)
            tracker.marks.append((tracker.chars, time.perf_counter()))

    Conversation.changed = patched  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            frames = frame_clock(app)
            cpu0, t0 = time.process_time(), time.perf_counter()
            app.flow.start_turn("go")
            await app.workers.wait_for_complete()
            await app.settle()
            await pilot.pause()
            cpu = time.process_time() - cpu0
            replies = [b for b in app.conversation.blocks if b.kind == "assistant"]
            assert replies[-1].text[-50:] == "".join(tokens)[-50:], \
                "the view did not receive the whole reply"
    finally:
        Conversation.changed = original  # type: ignore[method-assign]
    return Result("ours", len(tokens), t0, tracker.arrival_times(tokens), frames, cpu)


# --- baselines ----------------------------------------------------------------------------------


class PlainApp(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="scroll"):
            yield Markdown(id="md")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def run_plain(tokens: list[str], mode: str, rate: float | None = None) -> Result:
    app = PlainApp()
    tracker = Tracker()
    async with app.run_test(size=SIZE) as pilot:
        md = app.query_one(Markdown)
        frames = frame_clock(app)
        cpu0, t0 = time.process_time(), time.perf_counter()
        if mode == "stream":
            md.append = tracker.wrap(md.append)  # type: ignore[method-assign,assignment]
            stream = Markdown.get_stream(md)
            for i, tok in enumerate(tokens):
                if rate:
                    await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                await stream.write(tok)
            await stream.stop()
        else:  # naive: re-render the whole text per token
            text = ""
            for tok in tokens:
                text += tok
                await md.update(text)
                tracker.chars = len(text)
                tracker.marks.append((len(text), time.perf_counter()))
        await pilot.pause()
        cpu = time.process_time() - cpu0
    return Result(f"plain-{mode}", len(tokens), t0, tracker.arrival_times(tokens), frames, cpu)


async def memory_one(n: int) -> tuple[float, float]:
    """RSS (MB) of an app with ``n`` blocks of history: as opened (only the screen drawn), and
    after every block was drawn once (the view keeps a bounded number of them)."""
    import gc

    import psutil

    proc = psutil.Process()
    factory = SessionFactory(Config(), Firehose([]), features=())
    app = NanobotApp(factory, blink=False, hardware=fixed_snapshot(cpu_percent=0.0, cores=1),
                     resumed_events=history_events(n))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        gc.collect()
        opened = proc.memory_info().rss / 2**20
        conv = app.conversation
        for i in range(len(conv.blocks)):
            conv._draw(i)
        gc.collect()
        drawn = proc.memory_info().rss / 2**20
    return opened, drawn


def memory(blocks: list[int]) -> None:
    """Each size in a fresh interpreter: RSS never shrinks within one."""
    import json
    import subprocess
    import sys

    print(f"memory: RSS with history, window {SIZE[0]}x{SIZE[1]} (each in a fresh process)")
    base = 0.0
    for n in blocks:
        out = subprocess.run([sys.executable, "-m", "bench.stream", "--memory-one", str(n)],
                             capture_output=True, text=True, check=True).stdout
        opened, drawn = json.loads(out.strip().splitlines()[-1])
        base = base or opened
        per = (opened - base) / (n / 1000) if n else 0.0
        print(f"  {n:6,} blocks: RSS {opened:6.1f} MB as opened ({per:+.2f} MB per 1,000 blocks "
              f"over none), {drawn:6.1f} MB after drawing every block once")


def show(res: Result) -> dict[str, float]:
    s = res.summary()
    print(f"  {res.name:14} {res.tokens:6} tok  overall {s['overall']:8.0f} tok/s  "
          f"first {s['first']:8.0f}  last {s['last']:8.0f}  (last/first {s['last'] / s['first']:.2f})"
          f"  frame gap p50 {s['p50_ms']:6.1f} ms p99 {s['p99_ms']:7.1f} ms  "
          f"CPU {s['cpu_s']:6.1f} s in {s['wall_s']:6.1f} s")
    return s


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=20_000)
    ap.add_argument("--naive-tokens", type=int, default=500)
    ap.add_argument("--paced-tokens", type=int, default=1_000)
    ap.add_argument("--rate", type=float, default=50.0, help="tok/s for the paced CPU test")
    ap.add_argument("--history", type=int, default=200, help="blocks already in the transcript")
    ap.add_argument("--paced-history", type=int, default=0,
                    help="blocks of transcript for the paced CPU test (the baseline has none)")
    ap.add_argument("--quick", action="store_true", help="small sizes, to prove the script runs")
    ap.add_argument("--memory", action="store_true", help="only the memory figures")
    ap.add_argument("--memory-one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_one is not None:
        import json

        print(json.dumps(await memory_one(args.memory_one)))
        return
    if args.memory:
        memory([0, 1_000, 5_000, 10_000])
        return
    if args.quick:
        args.tokens, args.naive_tokens, args.paced_tokens = 3_000, 150, 250
    tokens = make_tokens(args.tokens)
    print(f"bench/stream: {args.tokens} tokens ({len(''.join(tokens)):,} chars), "
          f"{args.history} blocks of history, window {SIZE[0]}x{SIZE[1]}")
    ours = show(await run_ours(tokens, args.history))
    plain = show(await run_plain(tokens, "stream"))
    naive = show(await run_plain(make_tokens(args.naive_tokens), "naive"))
    print(f"  ratio ours/plain-stream overall: {ours['overall'] / plain['overall']:.1f}x; "
          f"ours/naive-update: {ours['overall'] / naive['overall']:.0f}x")
    print(f"  flat cost: ours last/first = {ours['last'] / ours['first']:.2f} (target >= 0.8); "
          f"target >= 2,000 tok/s sustained: ours last-1000 rate {ours['last']:.0f} tok/s")
    paced = make_tokens(args.paced_tokens)
    print(f"paced at {args.rate:.0f} tok/s, {len(paced)} tokens, {args.paced_history} blocks of "
          "history:")
    p_ours = await run_ours(paced, args.paced_history, rate=args.rate)
    p_plain = await run_plain(paced, "stream", rate=args.rate)
    for res in (p_ours, p_plain):
        print(f"  {res.name:14} UI CPU {100 * res.cpu / res.wall:5.1f}% of one core "
              f"({res.cpu:.1f} s CPU in {res.wall:.1f} s)")
    print(f"  ratio plain/ours CPU: {(p_plain.cpu / p_plain.wall) / (p_ours.cpu / p_ours.wall):.1f}x"
          " (target: ours under 15% of one core)")


if __name__ == "__main__":
    import sys

    if "--terminal" in sys.argv:
        from bench.stream_terminal import main as terminal_main

        terminal_main([a for a in sys.argv[1:] if a != "--terminal"])
    else:
        asyncio.run(main())
