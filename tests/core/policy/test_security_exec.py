"""Nothing an ``exec`` command starts outlives the call: setsid and double-forked processes are
swept by the supervisor too, unless the config keeps background processes."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext
from app.core.tools.shell import SUPERVISED, Exec

pytestmark = pytest.mark.skipif(not SUPERVISED, reason="the supervisor needs Linux /proc")


def alive_with(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (a unique sleep duration)."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(entry))
    return found


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path, cancel=CancelToken())


def escapes(marker: str) -> str:
    """Three ways out of the process group: setsid, a double fork, setsid + double fork."""
    sleeper = f"exec sleep {marker}"
    # The command waits until all three run as sleep before it ends (else a fast exit could
    # kill them while they are still in the group, and the test would prove nothing).
    wait = f"until [ $(pgrep -c -f '^sleep {marker}$') -ge 3 ]; do sleep 0.01; done"
    return (f"setsid sh -c '{sleeper}' & (sh -c '{sleeper}' &) & "
            f"(setsid sh -c '{sleeper}' &) & {wait}; echo started")


async def test_setsid_and_double_forked_children_are_swept(ctx: ToolContext) -> None:
    marker = f"30.000{secrets.randbelow(10**8):08d}"
    result = await Exec(timeout=30).run({"command": escapes(marker)}, ctx)
    assert result.content == "started"
    assert alive_with(marker) == []


async def test_a_cancel_sweeps_them_too(ctx: ToolContext) -> None:
    marker = f"30.000{secrets.randbelow(10**8):08d}"
    fifo = ctx.workspace / "up"
    os.mkfifo(fifo)
    task = asyncio.create_task(Exec(timeout=60).run(
        {"command": escapes(marker).replace("echo started", f"echo up > {fifo}; sleep 30")},
        ctx))
    assert await asyncio.to_thread(fifo.read_text) == "up\n"
    ctx.cancel.cancel()
    result = await task
    assert "cancelled by user" in result.content
    assert alive_with(marker) == []


async def test_background_processes_can_be_kept_by_config(ctx: ToolContext) -> None:
    marker = f"30.000{secrets.randbelow(10**8):08d}"
    tool = Exec(timeout=30, keep_background=True)
    result = await tool.run({"command": f"(exec sleep {marker} > /dev/null 2>&1 &) ; "
                                        "echo started"}, ctx)
    try:
        assert result.content == "started"
        assert len(alive_with(marker)) == 1
    finally:
        for pid in alive_with(marker):
            os.kill(pid, 9)
