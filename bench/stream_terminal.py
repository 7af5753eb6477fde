"""Streaming cost in a real terminal: each app runs in a child process under a pty (100x40).

    python -m bench.stream --terminal                      # history 0 and 10,000 blocks
    python -m bench.stream --terminal --history 0 200      # other history sizes

A scripted provider streams ``--tokens`` tokens at ``--rate`` tok/s (a model-like 50 by default)
through the real Session, the bridge (100 ms batches) and the conversation view. The child measures
its own process CPU time (``getrusage``: every thread, the provider's included) from the first
token to the last one being drawn, and the times of the frames it wrote; the parent drains the pty
like a terminal would and counts the bytes. Baselines in the same run, same window and duration:
an idle Textual app, and a minimal app with one ``Markdown`` fed through ``MarkdownStream`` in
100 ms batches of the same text.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import itertools
import json
import os
import pty
import resource
import select
import struct
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SIZE = (100, 40)
SETTLE_S = 1.5  # after the app is up, before measuring: startup work must not count


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# --- the child: one app, measured from inside --------------------------------------------------


@dataclass
class Marks:
    cpu0: float = 0.0
    t0: float = 0.0
    wall0: float = 0.0
    cpu1: float = 0.0
    t1: float = 0.0
    wall1: float = 0.0


def _hook_frames(app: Any, frames: list[float]) -> None:
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original(screen, renderable)

    app._display = display


def _finish(app: Any, marks: Marks, frames: list[float], out: Path, extra: dict[str, Any]) -> None:
    marks.cpu1, marks.t1, marks.wall1 = cpu_seconds(), time.perf_counter(), time.time()
    inside = [f for f in frames if marks.t0 <= f <= marks.t1]
    gaps = sorted(b - a for a, b in itertools.pairwise(inside)) or [0.0]
    import psutil

    out.write_text(json.dumps({
        "cpu_s": marks.cpu1 - marks.cpu0, "wall_s": marks.t1 - marks.t0,
        "wall0": marks.wall0, "wall1": marks.wall1, "frames": len(inside),
        "gap_p50_ms": 1000 * gaps[len(gaps) // 2],
        "gap_p99_ms": 1000 * gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))],
        "rss_mb": psutil.Process().memory_info().rss / 2**20, **extra}))
    app.exit()


def child_idle(args: argparse.Namespace, out: Path) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    marks, frames = Marks(), list[float]()

    class Idle(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("idle")

        def on_mount(self) -> None:
            _hook_frames(self, frames)
            self.set_timer(SETTLE_S, self.start)

        def start(self) -> None:
            marks.cpu0, marks.t0, marks.wall0 = cpu_seconds(), time.perf_counter(), time.time()
            self.set_timer(args.tokens / args.rate, lambda: _finish(self, marks, frames, out, {}))

    Idle().run()


def child_plain(args: argparse.Namespace, out: Path) -> None:
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown

    from bench.stream import make_tokens

    tokens = make_tokens(args.tokens)
    marks, frames = Marks(), list[float]()

    class Plain(App[None]):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield Markdown()

        def on_mount(self) -> None:
            self.query_one(VerticalScroll).anchor()
            _hook_frames(self, frames)
            self.set_timer(SETTLE_S, lambda: self.run_worker(self.feed()))

        async def feed(self) -> None:
            stream = Markdown.get_stream(self.query_one(Markdown))
            marks.cpu0, marks.t0, marks.wall0 = cpu_seconds(), time.perf_counter(), time.time()
            sent = 0
            while sent < len(tokens):  # like the bridge: what arrived in the last 100 ms at once
                await asyncio.sleep(0.1)
                due = min(len(tokens), int((time.perf_counter() - marks.t0) * args.rate) + 1)
                if due > sent:
                    await stream.write("".join(tokens[sent:due]))
                    sent = due
            await stream.stop()
            await asyncio.sleep(0.05)
            _finish(self, marks, frames, out, {})

    Plain().run()


def child_ours(args: argparse.Namespace, out: Path) -> None:
    from app.core.models.hardware import fixed_snapshot
    from app.core.settings.config import Config
    from app.runtime.factory import SessionFactory
    from app.tui.app import NanobotApp
    from bench.stream import Firehose, history_events, make_tokens

    tokens = make_tokens(args.tokens)
    marks, frames = Marks(), list[float]()
    factory = SessionFactory(Config(), Firehose(tokens, args.rate), features=())
    app = NanobotApp(factory, blink=False, hardware=fixed_snapshot(cpu_percent=0.0, cores=1),
                     resumed_events=history_events(args.history))

    profile = os.environ.get("NANOBOT_BENCH_PROFILE")  # a path: write a pyinstrument profile
    profiler: Any = None

    def start() -> None:
        nonlocal profiler
        _hook_frames(app, frames)
        if profile:
            from pyinstrument import Profiler  # a dev tool, not a dependency

            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
        spy = os.environ.get("NANOBOT_BENCH_PYSPY")  # a path: py-spy samples the streaming
        if spy:
            import subprocess

            subprocess.Popen(["py-spy", "record", "--pid", str(os.getpid()), "--rate", "250",
                              "--format", "raw", "--nonblocking", "--duration",
                              str(int(args.tokens / args.rate)), "-o", spy],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        marks.cpu0, marks.t0, marks.wall0 = cpu_seconds(), time.perf_counter(), time.time()
        app.flow.start_turn("go")
        app.set_interval(0.05, check)

    def check() -> None:
        if not app.busy and not marks.t1:
            if profiler is not None:
                profiler.stop()
                text = profiler.output_text(color=False, unicode=True)
                flat = profiler.output_text(color=False, unicode=True, flat=True)
                Path(str(profile)).write_text(f"{text}\n{flat}")
            _finish(app, marks, frames, out, {"history": args.history})

    app.call_later(lambda: app.set_timer(SETTLE_S, start))
    app.run()


CHILDREN = {"idle": child_idle, "plain": child_plain, "ours": child_ours}


# --- the parent: a pty per run, drained like a terminal ---------------------------------------


def run_child(variant: str, args: argparse.Namespace, history: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        argv = [sys.executable, "-m", "bench.stream_terminal", "--child", variant,
                "--tokens", str(args.tokens), "--rate", str(args.rate),
                "--history", str(history), "--out", str(out)]
        pid, fd = pty.fork()
        if pid == 0:  # the child: a terminal of SIZE
            os.environ["TERM"] = "xterm-256color"
            os.environ["COLUMNS"], os.environ["LINES"] = str(SIZE[0]), str(SIZE[1])
            os.environ["NANOBOT_HOME"] = os.path.join(tmp, "home")
            os.execv(sys.executable, argv)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        reads: list[tuple[float, int]] = []
        deadline = time.time() + args.tokens / args.rate + 120
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                reads.append((time.time(), len(data)))
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                break
        else:
            os.kill(pid, 9)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(fd)
        if not out.exists():
            raise RuntimeError(f"{variant}: the child wrote no result")
        res: dict[str, Any] = json.loads(out.read_text())
        res["bytes"] = sum(n for t, n in reads if res["wall0"] <= t <= res["wall1"] + 0.05)
        return res


def show(name: str, res: dict[str, Any]) -> float:
    share = float(100 * res["cpu_s"] / res["wall_s"])
    print(f"  {name:26} {share:5.1f}% of one core  ({res['cpu_s']:.2f} s CPU in "
          f"{res['wall_s']:.1f} s; {res['frames']} frames, gap p50 {res['gap_p50_ms']:.0f} ms "
          f"p99 {res['gap_p99_ms']:.0f} ms; {res['bytes'] / 1024:.0f} KiB to the terminal; "
          f"RSS {res['rss_mb']:.0f} MB)")
    return share


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--history", type=int, nargs="*", default=[0, 10_000])
    ap.add_argument("--child", choices=sorted(CHILDREN))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--only", choices=sorted(CHILDREN), help="run one app (with --history)")
    args = ap.parse_args(argv)
    if args.child:
        args.history = args.history[0] if args.history else 0
        CHILDREN[args.child](args, args.out)
        return
    print(f"bench/stream --terminal: {args.tokens} tokens at {args.rate:.0f} tok/s under a pty "
          f"{SIZE[0]}x{SIZE[1]}; load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    if args.only:
        for h in args.history:
            show(f"{args.only}, {h:,} blocks", run_child(args.only, args, h))
        return
    idle = show("idle Textual app", run_child("idle", args))
    plain = show("Markdown + MarkdownStream", run_child("plain", args))
    for h in args.history:
        ours = show(f"Nanobot, {h:,} blocks", run_child("ours", args, h))
        print(f"    ratio ours/plain {ours / plain:.2f}, ours/idle {ours / max(idle, 0.01):.1f}; "
              "goal <= 5% of a core")
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
