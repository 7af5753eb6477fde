"""Esc Esc latency: from the second Esc to "turn cancelled" on screen, with nothing rendered after.

    python -m bench.cancel                       # 50 trials in-process, 50 over HTTP, 10 tool kills
    python -m bench.cancel --trials 5 --tool-trials 3

Each trial runs the real app headless, starts a turn, waits until the reply is streaming on screen,
presses Esc twice through Pilot, and stops the clock when the app has handled TurnCancelled (the
cancelled marker is mounted). In-process: the bundled model in this process. HTTP: the same model
behind ``python -m llama_cpp.server`` on 127.0.0.1 (tests/servers.py). Tool kill: a turn whose tool
runs ``sleep 30`` in its own process group; the clock stops when that process is gone. The tool is
a small subprocess tool defined here with the ``exec`` tool's contract (cancel → kill the process
group), so the app's part is timed alone; ``bench/exec_cancel.py`` times the real ``exec`` tool.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import time
from typing import Any

from textual import events
from textual.message import Message

from app.core.agent.events import TextDelta, TurnCancelled
from app.core.agent.messages import ToolCall
from app.core.agent.session import SessionOptions
from app.core.models.embedded import ensure_embedded
from app.core.models.hardware import fixed_snapshot
from app.core.providers.base import Provider, ToolSpec
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.tool_config import PermissionsConfig
from app.core.tools.base import ToolContext, ToolRegistry, ToolResult
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from app.tui.bridge import CoreEvent
from tests.servers import llama_server  # run as `python -m bench.cancel` from the repository root

PROMPT = "Count from 1 to 500, one number per line."
HW = fixed_snapshot(cpu_percent=0.0, cores=1)


class Clock:
    """A message hook: when TurnCancelled was handled, and any text handled after it."""

    def __init__(self) -> None:
        self.cancelled_at = 0.0
        self.after = 0

    def __call__(self, message: Message) -> None:
        if isinstance(message, CoreEvent):
            if isinstance(message.event, TurnCancelled) and not self.cancelled_at:
                self.cancelled_at = time.perf_counter()
            elif isinstance(message.event, TextDelta) and self.cancelled_at:
                self.after += 1


def press_escape_twice(app: NanobotApp) -> float:
    """Post two Esc key events as a terminal would for a quick double press; returns the time of
    the second (Pilot.press would wait for the app to go idle between them, which under load can
    take longer than the 2 s window)."""
    app.post_message(events.Key("escape", None))
    t0 = time.perf_counter()
    app.post_message(events.Key("escape", None))
    return t0


async def one_trial(provider: Provider, tools: ToolRegistry | None = None,
                    ready: asyncio.Event | None = None) -> tuple[float, int]:
    factory = SessionFactory(Config(), provider, options=SessionOptions(max_tokens=1024),
                             tools=lambda: tools or (), features=())
    streaming = asyncio.Event()
    app = NanobotApp(factory, blink=False, hardware=HW)
    app.session.add_listener(lambda ev: streaming.set() if isinstance(ev, TextDelta) else None)
    clock = Clock()
    async with app.run_test(size=(100, 30), message_hook=clock) as pilot:
        app.flow.start_turn(PROMPT)
        await (ready or streaming).wait()
        await pilot.pause()
        t0 = press_escape_twice(app)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert clock.cancelled_at, "the turn was not cancelled"
        latency = clock.cancelled_at - t0
        # Whatever was streamed is on screen and nothing came after the marker.
        after = clock.after
    return latency, after


class SleepTool:
    """``sleep 30`` in its own process group; cancellation kills the group."""

    spec = ToolSpec("sleep_tool", "Sleep for a while.", {"type": "object", "properties": {}})

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.pid = 0
        self.gone_at = 0.0

    def label(self, args: dict[str, Any]) -> str:
        return "sleep 30"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        proc = await asyncio.create_subprocess_exec(
            "sleep", "30", stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        self.pid = proc.pid
        self.started.set()
        try:
            await proc.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            self.gone_at = time.perf_counter()
            raise
        return ToolResult(f"exit {proc.returncode}")


async def tool_trial() -> tuple[float, float]:
    tool = SleepTool()
    provider = ScriptedProvider([ScriptedReply(tool_calls=[ToolCall("c1", "sleep_tool", {})])])
    # Allowed by policy, as a user's allow-list would: a permission dialog is not what is timed.
    config = Config(permissions=PermissionsConfig(tools={"sleep_tool": "allow"}))
    factory = SessionFactory(config, provider, tools=lambda: [tool], features=())
    app = NanobotApp(factory, blink=False, hardware=HW)
    clock = Clock()
    async with app.run_test(size=(100, 30), message_hook=clock) as pilot:
        app.flow.start_turn("sleep")
        await tool.started.wait()
        await pilot.pause()
        t0 = press_escape_twice(app)
        await app.workers.wait_for_complete()
        await pilot.pause()
        alive = True
        try:
            os.kill(tool.pid, 0)
        except ProcessLookupError:
            alive = False
        assert not alive, "sleep 30 survived the cancel"
    return tool.gone_at - t0, clock.cancelled_at - t0


def report(name: str, latencies: list[float], after: int, produced: int | None = None) -> None:
    """``after``: text events the app handled after the cancelled marker (must be 0);
    ``produced``: chunks the in-process model thread made after the cancel flag was set (the one
    in flight at most, dropped before the UI)."""
    ms = sorted(1000 * x for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    extra = "" if produced is None else f"  chunks made after cancel (dropped): {produced}"
    print(f"  {name:10} n={len(ms):3}  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  "
          f"max {ms[-1]:7.1f} ms  text shown after cancel: {after}{extra}  "
          "(target p99 < 100 ms)")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--tool-trials", type=int, default=10)
    ap.add_argument("--skip-http", action="store_true")
    args = ap.parse_args()
    model = ensure_embedded()
    local = LlamaInProcessProvider(model, n_ctx=2048, temperature=0.0, seed=7,
                                   grammar_tool_calls=False, label="qwen2.5-coder-0.5b")
    await local.load()
    lat, after = [], 0
    for _ in range(args.trials):
        t, a = await one_trial(local)
        lat.append(t)
        after += a
    print(f"bench/cancel ({args.trials} trials each; clock: 2nd Esc → TurnCancelled handled)")
    report("in-process", lat, after, local.chunks_after_cancel)
    await local.aclose()
    if not args.skip_http:
        with llama_server(model) as base:
            http = OpenAIHTTPProvider(base, "qwen2.5-coder-0.5b", context_window=2048)
            lat, after = [], 0
            for _ in range(args.trials):
                t, a = await one_trial(http)
                lat.append(t)
                after += a
            report("http", lat, after)
            await http.aclose()
    kills, marks = [], []
    for _ in range(args.tool_trials):
        k, m = await tool_trial()
        kills.append(k)
        marks.append(m)
    ms = sorted(1000 * k for k in kills)
    print(f"  sleep 30   n={len(ms):3}  killed after p50 {statistics.median(ms):6.1f} ms  "
          f"max {ms[-1]:6.1f} ms (target < 200 ms); turn cancelled on screen p50 "
          f"{1000 * statistics.median(marks):6.1f} ms  [a bench-local subprocess tool]")


if __name__ == "__main__":
    asyncio.run(main())
