"""A real Nanobot runtime that writes its event log flat out until it is killed (kill -9 test).

``python -m tests.crash_app`` builds the app's runtime (config, session log, compaction, swarm) on a
scripted model whose replies never end, starts three workers, and prints ``READY <log path>`` once
the log holds a few hundred records. It then keeps writing until the test sends SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile

from app.core.agent.events import Event
from app.core.agent.messages import ToolCall
from app.core.providers.scripted import ScriptedReply
from app.runtime.build import build_runtime
from tests.core.swarm.swarm_helpers import KeyedProvider

ENDLESS = ["tok "] * 1_000_000


async def main() -> int:
    provider = KeyedProvider()
    provider.delay = 0.0005
    for key in ("alpha", "beta", "gamma"):
        provider.script(key, ScriptedReply(chunks=list(ENDLESS)))
    provider.script("root", ScriptedReply(tool_calls=[
        ToolCall(f"c{k}", "spawn", {"action": "spawn", "task": f"{k} task"})
        for k in ("alpha", "beta", "gamma")]), ScriptedReply(chunks=list(ENDLESS)))
    # A workspace of its own: the agent's first reads depend on what the workspace holds, and this
    # test is about the log, not about the repository it happens to run in.
    workspace = tempfile.mkdtemp(prefix="crash-ws-")
    rt = build_runtime(provider=provider, persist=True, workspace=workspace)
    session = rt.factory.new().session
    assert session.store is not None
    ready = asyncio.Event()
    count = 0

    def on_event(_ev: Event) -> None:
        nonlocal count
        count += 1
        if count >= 400:
            ready.set()

    session.add_listener(on_event)
    turn = asyncio.create_task(session.run_turn("root: start three workers and keep talking"))
    await asyncio.wait_for(ready.wait(), timeout=120)
    print(f"READY {session.store.path}", flush=True)
    await asyncio.wait_for(turn, timeout=120)  # never finishes: the test kills us first
    return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
