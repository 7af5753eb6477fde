"""How fast cancelling a turn ends an ``exec`` process tree.

Usage: python bench/exec_cancel.py [--runs 20] [--load 0]

Each run starts a real turn whose tool call is ``exec`` of ``sleep 30`` with two background
``sleep 30`` grandchildren, waits until all three are running, cancels the turn (what Esc does)
and times until no live process is left in the command's process group. The baseline is the same
tree started directly with ``subprocess`` and killed with one ``killpg(SIGKILL)``, timed the same
way in the same run. ``--load N`` adds N busy-looping processes to measure under CPU load.
Target: every cancel under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import PermissionGate
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig
from app.core.tools.base import ToolRegistry
from app.core.tools.shell import Exec, group_members

TREE = "sleep 30 & sleep 30 & sleep 30"


def _spin() -> None:
    while True:
        pass


# A process group has no event to await: polling /proc is the measurement itself.
async def wait_members(pgid_of: Callable[[], int | None], n: int) -> int:
    while True:
        pgid = pgid_of()
        if pgid is not None and len(group_members(pgid)) >= n:
            return int(pgid)
        await asyncio.sleep(0.002)


async def until_gone(pgid: int) -> None:
    while group_members(pgid):  # noqa: ASYNC110 - see wait_members
        await asyncio.sleep(0.001)


async def one_turn(ws: Path) -> float:
    tool = Exec(timeout=60)
    provider = ScriptedProvider([ScriptedReply.call("exec", command=TREE), "never"])
    session = Session(provider, tools=ToolRegistry([tool]),
                      options=SessionOptions(workspace=ws),
                      permissions=PermissionGate(PermissionsConfig(tools={"exec": "allow"})))
    started = asyncio.Event()

    def on(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            started.set()

    session.add_listener(on)
    task = asyncio.create_task(session.run_turn("run it"))
    await started.wait()
    pgid = await wait_members(lambda: tool.last_pgid, 3)
    t0 = time.perf_counter()
    session.cancel()
    await until_gone(pgid)
    elapsed = time.perf_counter() - t0
    outcome = await task
    assert outcome.status == "cancelled", outcome
    return elapsed


async def one_baseline() -> float:
    proc = await asyncio.create_subprocess_exec("/bin/sh", "-c", TREE + "; wait",
                                                stdin=subprocess.DEVNULL, start_new_session=True)
    await wait_members(lambda: proc.pid, 3)
    t0 = time.perf_counter()
    os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
    await until_gone(proc.pid)
    return time.perf_counter() - t0


def summary(name: str, xs: list[float]) -> str:
    ms = sorted(x * 1000 for x in xs)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (f"{name:9} n={len(ms)}  p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  "
            f"max {ms[-1]:6.1f} ms")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--load", type=int, default=0, help="busy-looping processes to add")
    args = ap.parse_args()
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    try:
        ws = Path(tempfile.mkdtemp(prefix="nb-exec-cancel-"))
        cancel, base = [], []
        for _ in range(args.runs):
            cancel.append(await one_turn(ws))
            base.append(await one_baseline())
    finally:
        for p in spinners:
            p.terminate()
    print(f"exec cancel: {TREE!r}, {args.runs} runs, load {args.load}, "
          f"{os.cpu_count()} cores, loadavg {os.getloadavg()[0]:.2f}")
    print(summary("turn", cancel))
    print(summary("baseline", base))
    ratio = statistics.median(cancel) / max(1e-9, statistics.median(base))
    print(f"ratio turn/baseline (p50): {ratio:.2f}")
    print(f"under 200 ms: {sum(c < 0.2 for c in cancel)}/{len(cancel)}")


if __name__ == "__main__":
    asyncio.run(main())
