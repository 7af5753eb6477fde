"""What the exec supervisor costs per command.

Usage: python bench/exec_overhead.py [--runs 30]

Times ``Exec().run("true")`` end to end (spawn, wait, drain, sweep), with the supervisor (a
Python child subreaper that stops setsid/double-forked leftovers) and without it (``sh -c`` in its
own process group, the previous behaviour), alternating in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app.core.tools.shell as shell
from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext


async def one(ctx: ToolContext, supervised: bool) -> float:
    shell.SUPERVISED = supervised
    t0 = time.perf_counter()
    result = await shell.Exec().run({"command": "true"}, ctx)
    elapsed = time.perf_counter() - t0
    assert not result.is_error, result.content
    return elapsed


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    ctx = ToolContext(Path(tempfile.mkdtemp(prefix="nb-exec-overhead-")), CancelToken())
    sup: list[float] = []
    plain: list[float] = []
    for _ in range(args.runs):
        sup.append(await one(ctx, True))
        plain.append(await one(ctx, False))
    print(f"exec 'true', {args.runs} runs each, {os.cpu_count()} cores, "
          f"loadavg {os.getloadavg()[0]:.2f}")
    for name, xs in (("supervised", sup), ("plain sh", plain)):
        ms = sorted(x * 1000 for x in xs)
        print(f"{name:11} p50 {statistics.median(ms):6.1f} ms  max {ms[-1]:6.1f} ms")
    print(f"ratio supervised/plain (p50): {statistics.median(sup) / statistics.median(plain):.2f}")


if __name__ == "__main__":
    asyncio.run(main())
