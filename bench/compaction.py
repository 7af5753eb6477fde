"""Compaction under load: does the user wait while a summary runs, are turns lost, what each tier costs.

A scripted long session (the main model is scripted, so only the harness is timed) crosses 80, 85 and
95 % of the window. Measured:

- prompt-input latency: submit -> TurnStarted and submit -> first streamed text, over many turns,
  with a background summary running vs none running (same turns, same machine, same run); p50/p99
  and the ratio (goal ~1.0). Event-loop lag (a 5 ms ticker's lateness) is reported alongside.
- turns lost: user messages neither in the final request nor recoverable through the citations it
  carries (goal 0).
- time per tier: mask and truncate (time inside the request build), summary (start -> ready).

The summariser is the real memory-slot model in-process by default (a second llama.cpp instance:
CPU-bound work in a thread, the case that could stall the UI); ``--summariser scripted`` streams a
canned summary slowly instead.

Usage: python bench/compaction.py [--turns 40] [--summariser local|scripted] [--window 4096]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, TextDelta, TurnStarted
from app.core.agent.session import Session, SessionOptions
from app.core.context.compaction import CompactionEvent, ContextManager
from app.core.context.compaction_tiers import REF_RE
from app.core.context.summarizer import Summarizer
from app.core.providers.base import Provider, ToolSpec
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import ContextConfig
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolContext, ToolRegistry, ToolResult


class Fetch:
    spec = ToolSpec(name="fetch", description="Fetch record n.",
                    parameters={"type": "object", "properties": {"n": {"type": "integer"}},
                                "required": ["n"]})

    def __init__(self, size: int) -> None:
        self.size = size

    def label(self, args: dict[str, Any]) -> str:
        return "Fetching"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        n = int(args["n"])
        line = f"record {n}: value={n * 7} status=ok path=src/module_{n}.py\n"
        return ToolResult((line * (self.size // len(line) + 1))[: self.size])


def summariser(kind: str) -> Summarizer:
    if kind == "scripted":
        text = "## Task\n- fetch records\n## Facts\n- values are 7n\n## Pending\n- none"
        slow = ScriptedProvider([ScriptedReply.text(text, piece=2)] * 50, model="scripted-memory",
                                delay=0.05)
        return Summarizer(slow, timeout_s=120)

    def make() -> Provider:
        from app.core.providers.registry import local_provider
        from app.core.settings.config import SlotConfig

        return local_provider(SlotConfig(context_size=4096), label="memory slot").provider

    return Summarizer(make, timeout_s=120, max_tokens=200)


class Probe:
    """Submit -> TurnStarted / first text latencies, and event-loop lag."""

    def __init__(self) -> None:
        self.submitted = 0.0
        self.start: list[float] = []
        self.first_text: list[float] = []
        self._seen_text = True
        self.lag: list[float] = []

    def on_event(self, ev: Event) -> None:
        now = time.perf_counter()
        if isinstance(ev, TurnStarted):
            self.start.append(now - self.submitted)
            self._seen_text = False
        elif isinstance(ev, TextDelta) and not self._seen_text:
            self.first_text.append(now - self.submitted)
            self._seen_text = True

    async def ticker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            self.lag.append(max(0.0, time.perf_counter() - t - 0.005))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def turn(session: Session, provider: ScriptedProvider, probe: Probe, n: int,
               tool: bool = True) -> None:
    if tool:
        provider.enqueue(ScriptedReply.call("fetch", n=n))
    provider.enqueue(ScriptedReply.text(f"Record {n} noted; value {n * 7}.", piece=3))
    probe.submitted = time.perf_counter()
    await session.run_turn(f"fetch record {n} and tell me its value")


async def latency_run(kind: str, turns: int, background: bool) -> Probe:
    """Quick turns with (or without) a summary running the whole time."""
    with tempfile.TemporaryDirectory() as d:
        provider = ScriptedProvider(context_window=32768)
        manager = ContextManager(summarizer=summariser(kind) if background else None)
        session = Session(provider, tools=ToolRegistry([Fetch(300)]),
                          options=SessionOptions(workspace=Path(d), max_tokens=256),
                          compaction=manager)
        probe = Probe()
        session.add_listener(probe.on_event)
        for n in range(4):  # some history to summarise
            await turn(session, provider, probe, n)
        probe.start.clear()
        probe.first_text.clear()
        if background:
            assert manager.compact_now() == "started"
        stop = asyncio.Event()
        ticker = asyncio.create_task(probe.ticker(stop))
        for n in range(turns):
            await turn(session, provider, probe, 100 + n, tool=False)
        stop.set()
        await ticker
        if background:
            still = manager.task is not None
            await manager.wait_summary()
            if not still:
                print("  note: the summary finished before the turns did; use more --turns")
        return probe


async def tier_run(kind: str, window: int, output: int) -> tuple[list[CompactionEvent], int, int,
                                                                  ContextManager]:
    """One long session across all three thresholds; returns tier events and lost turns."""
    with tempfile.TemporaryDirectory() as d:
        provider = ScriptedProvider(context_window=window)
        manager = ContextManager(summarizer=summariser(kind), config=ContextConfig())
        session = Session(provider, tools=ToolRegistry([Fetch(output)]),
                          options=SessionOptions(workspace=Path(d), max_tokens=256),
                          store=SessionStore.create(Path(d) / "sessions"), compaction=manager)
        events: list[CompactionEvent] = []
        session.add_listener(lambda e: events.append(e) if isinstance(e, CompactionEvent)
                             else None)
        probe = Probe()
        n = 0
        while not any(e.tier == "truncate" for e in events) and n < 400:
            n += 1
            size = output * 8 if any(e.tier == "mask" for e in events) else None
            if size:
                session.tools.register(Fetch(size))
            await turn(session, provider, probe, n)
        await manager.wait_summary()
        n += 1
        await turn(session, provider, probe, n)  # the next boundary swaps the summary in
        request = provider.requests[-1].messages
        sent = "\n".join(m.content for m in request)
        recoverable = set(sent.split("\n"))
        for ref in {m.group(0) for m in REF_RE.finditer(sent)}:
            for msg in manager.expand(ref):
                recoverable.add(msg.content)
        users = [m.content for m in session.history if m.role == "user"]
        lost = sum(1 for u in users if u not in recoverable and u not in sent)
        return events, lost, len(users), manager


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--turns", type=int, default=40)
    ap.add_argument("--summariser", choices=("local", "scripted"), default="local")
    ap.add_argument("--window", type=int, default=4096)
    ap.add_argument("--output", type=int, default=600, help="chars per tool output")
    args = ap.parse_args()

    async def run() -> None:
        print(f"summariser: {args.summariser}; {args.turns} turns per condition")
        base = await latency_run(args.summariser, args.turns, background=False)
        bg = await latency_run(args.summariser, args.turns, background=True)
        print(f"{'':28}{'p50 ms':>10}{'p99 ms':>10}")
        for name, probe in (("no summary", base), ("summary running", bg)):
            for what, values in (("submit->turn", probe.start), ("submit->first text",
                                                                  probe.first_text),
                                 ("loop lag", probe.lag)):
                print(f"{name + ' ' + what:36}{pct(values, .5) * 1e3:10.2f}"
                      f"{pct(values, .99) * 1e3:10.2f}")
        ratio = pct(bg.first_text, .99) / max(pct(base.first_text, .99), 1e-9)
        print(f"p99 submit->first text, summary running / none: {ratio:.2f}x (goal ~1.0)")

        events, lost, users, _ = await tier_run(args.summariser, args.window, args.output)
        print(f"\nlong session: {users} user turns, turns lost: {lost} (goal 0)")
        for tier in ("summary", "mask", "truncate"):
            fired = [e for e in events if e.tier == tier and e.action in (
                "ready", "fired", "failed")]
            if not fired:
                print(f"{tier:9} did not fire")
                continue
            durations = [e.duration for e in fired]
            print(f"{tier:9} fired {len(fired)}x, time each: median "
                  f"{statistics.median(durations) * 1e3:.1f} ms, max {max(durations) * 1e3:.1f} ms"
                  + (f" ({fired[-1].detail})" if fired[-1].action == "failed" else ""))

    asyncio.run(run())


if __name__ == "__main__":
    main()
