"""Status injection: the request ends with live worker status from the registry, or nothing."""

from __future__ import annotations

from pathlib import Path

from app.core.providers.scripted import ScriptedReply
from app.core.swarm.status import HEADER
from tests.core.swarm.swarm_helpers import gated, make_root
from tests.core.swarm.test_swarm import spawn_call


async def test_status_block_is_live_and_left_out_when_empty(tmp_path: Path) -> None:
    session, provider, swarm, _ = make_root(tmp_path)
    reply, gate = gated("indexed 42 files")
    provider.script("index", reply)
    provider.script("root", "Nothing running.",
                    ScriptedReply(tool_calls=[spawn_call("index the docs", label="Index docs")]),
                    "Started.", "It is still indexing.", "It finished: 42 files.")
    await session.run_turn("root: hello")
    assert not any(HEADER in m.content for m in provider.requests[-1].messages)

    await session.run_turn("root: index the docs in the background")
    await provider.key_seen("index").wait()
    outcome = await session.run_turn("root: how is the background job going?")
    assert outcome.iterations == 1  # answered in one step, no tool call
    system = provider.requests[-1].messages[0]
    assert system.role == "system" and HEADER in system.content
    assert "- RUNNING: Index docs (id w1, scripted," in system.content
    assert provider.requests[-1].messages[-1].content == "root: how is the background job going?"
    assert not any(HEADER in m.content for m in session.history)  # only the request has it
    # The registry is read, not the log: removing the log changes nothing.
    assert session.store is not None
    session.store.close()
    session.store.path.unlink()
    gate.set()
    await swarm.wait(["w1"])
    await session.run_turn("root: and now?")
    block = provider.requests[-1].messages[0].content
    assert "- DONE: Index docs (id w1, " in block and "indexed 42 files" in block
    assert "RUNNING" not in block
