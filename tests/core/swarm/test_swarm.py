"""Workers on scripted models: concurrency, budgets, cancel, reports, status injection, the log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.agent.events import MessageAdded, Notice
from app.core.agent.messages import ToolCall
from app.core.providers.base import ProviderError
from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import SwarmConfig
from app.core.store.session_store import read_session
from app.core.swarm.events import SwarmUpdated, WorkerFinished, WorkerSpawned
from app.core.swarm.worker import BudgetError, WorkerBudget
from app.core.tools.base import ToolError
from tests.core.swarm.swarm_helpers import KeyedProvider, gated, make_root


def spawn_call(task: str, **extra: object) -> ToolCall:
    return ToolCall(id=f"call_{task.split()[0]}", name="spawn",
                    arguments={"action": "spawn", "task": task, **extra})


async def test_three_workers_run_at_once_and_report_back(tmp_path: Path) -> None:
    session, provider, swarm, events = make_root(tmp_path)
    gates = {}
    for key in ("alpha", "beta", "gamma"):
        reply, gates[key] = gated(f"{key} result: all fine")
        provider.script(key, reply)
    provider.script("root", ScriptedReply(tool_calls=[spawn_call(f"{k} task")
                                                      for k in gates]),
                    "Three workers are running.", "All three reported.")
    outcome = await session.run_turn("root: start three workers")
    assert outcome.text == "Three workers are running."
    for key in gates:
        await provider.key_seen(key).wait()
    snap = swarm.snapshot()
    assert [r.state for r in snap.rows] == ["running"] * 3 and snap.running == 3
    assert [r.max_iterations for r in snap.rows] == [10, 10, 10]
    assert any(isinstance(e, SwarmUpdated) and e.snapshot.running == 3 for e in events)
    for gate in gates.values():
        gate.set()
    await swarm.wait(list(swarm.workers))
    assert [w.state for w in swarm.workers.values()] == ["done"] * 3
    notices = [e for e in events if isinstance(e, Notice) and "finished in" in e.text]
    assert len(notices) == 3
    # The next turn sees each result once, as a notice message after the user's.
    await session.run_turn("root: and now?")
    request = provider.requests[-1].messages
    reports = [m for m in request if m.role == "notice" and m.content.startswith("[worker")]
    assert sorted(r.content.splitlines()[1] for r in reports) == [
        "alpha result: all fine", "beta result: all fine", "gamma result: all fine"]
    # Status injection: recently finished workers, from the registry, in the system prompt.
    assert request[0].role == "system" and "DONE: alpha task" in request[0].content


async def test_budget_halves_and_depth_stops_at_three(tmp_path: Path) -> None:
    root = WorkerBudget(max_iterations=20, max_depth=3)
    chain = [root]
    for _ in range(3):
        chain.append(chain[-1].child(0.0, timeout_s=60.0))
    assert [b.max_iterations for b in chain] == [20, 10, 5, 2]
    assert [b.depth for b in chain] == [0, 1, 2, 3]
    with pytest.raises(BudgetError, match="max depth 3"):
        chain[-1].child(0.0)
    # Deadlines and tokens only shrink down the tree.
    tight = chain[1].child(10.0, timeout_s=1000.0, tokens_left=50)
    assert tight.deadline == chain[1].deadline and tight.max_tokens == 50


async def test_nested_workers_and_cancel_stops_the_subtree_and_tells_the_parent(
        tmp_path: Path) -> None:
    session, provider, swarm, events = make_root(tmp_path)
    inner, _inner_gate = gated("inner never finishes")
    provider.script("outer", ScriptedReply(tool_calls=[spawn_call("inner task")]),
                    ScriptedReply(tool_calls=[ToolCall("c_w", "spawn",
                                                       {"action": "wait", "id": "w2"})]))
    provider.script("inner", inner)
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("outer task")]), "Started.",
                    "Noted the cancellation.")
    await session.run_turn("root: go")
    await provider.key_seen("inner").wait()
    w1, w2 = swarm.workers["w1"], swarm.workers["w2"]
    assert w2.parent == "w1" and w2.budget.depth == 2 and w2.budget.max_iterations == 5
    assert [r.id for r in swarm.snapshot().rows] == ["w1", "w2"]
    assert swarm.cancel("w1") == ["w1", "w2"]
    await swarm.wait(["w1", "w2"])
    assert w1.state == w2.state == "cancelled"
    told = [e for e in events if isinstance(e, Notice) and "w1" in e.text]
    assert told and "cancelled" in told[0].text
    await session.run_turn("root: status?")
    report = next(m for m in provider.requests[-1].messages
                  if m.role == "notice" and m.content.startswith("[worker w1"))
    assert "cancelled by user" in report.content


async def test_depth_three_worker_gets_no_spawn_tool(tmp_path: Path) -> None:
    session, provider, swarm, _ = make_root(tmp_path)
    for key, nxt in (("one", "two"), ("two", "three")):
        provider.script(key, ScriptedReply(tool_calls=[spawn_call(f"{nxt} task")]),
                        ScriptedReply(tool_calls=[ToolCall(f"c{key}", "spawn",
                                                           {"action": "wait"})]), "done")
    provider.script("three", "deepest done")
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("one task")]), "ok")
    await session.run_turn("root: deep")
    await swarm.wait(["w1"])
    deepest = swarm.workers["w3"]
    assert deepest.budget.depth == 3 and deepest.session is not None
    assert "spawn" not in deepest.session.tools.names()
    with pytest.raises(ToolError, match="max depth 3"):
        swarm.spawn("w3", "four task")
    assert [swarm.workers[w].state for w in ("w1", "w2", "w3")] == ["done"] * 3
    assert deepest.result == "deepest done" and swarm.workers["w2"].result == "done"


async def test_bad_workers_stop_at_their_budget_and_others_go_on(tmp_path: Path) -> None:
    session, provider, swarm, _ = make_root(tmp_path, max_iterations=6)  # workers get 3
    provider.script("loop", *[ScriptedReply(chunks=[f"looking {i}. "],
                                            tool_calls=[ToolCall(f"l{i}", "read_file",
                                                                 {"path": f"f{i}.txt"})])
                              for i in range(10)])
    provider.script("crash", ScriptedReply(error=ProviderError("model fell over")))
    provider.script("good", "good result")
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("loop task"),
                                                      spawn_call("crash task"),
                                                      spawn_call("good task")]), "ok")
    await session.run_turn("root: three workers")
    await swarm.wait(["w1", "w2", "w3"])
    loop, crash, good = (swarm.workers[w] for w in ("w1", "w2", "w3"))
    assert loop.state == "over_budget" and "tool-round budget (3)" in loop.stop_reason
    assert loop.result == "looking 2."  # its partial work comes back
    assert crash.state == "failed" and "model fell over" in crash.error
    assert good.state == "done" and good.result == "good result"
    assert not session.running


async def test_token_and_wall_clock_budgets(tmp_path: Path) -> None:
    config = SwarmConfig(token_budget=30)
    session, provider, swarm, _ = make_root(tmp_path, config=config)
    provider.script("hungry", ScriptedReply(chunks=["step one. "],
                                            tool_calls=[ToolCall("h1", "list_dir", {})]),
                    "never reached")
    hung, _gate = gated("never released")
    provider.script("slow", hung)
    provider.script("root", ScriptedReply(tool_calls=[
        spawn_call("hungry task"), spawn_call("slow task", timeout=0.05)]), "ok")
    await session.run_turn("root: budgets")
    await swarm.wait(["w1", "w2"])
    hungry, slow = swarm.workers["w1"], swarm.workers["w2"]
    assert hungry.state == "over_budget" and hungry.stop_reason == "token budget used up"
    assert hungry.result == "step one."
    assert slow.state == "over_budget" and slow.stop_reason == "wall-clock budget used up"
    assert slow.result == "nev"  # what it had streamed before the gate


async def test_spawn_tool_actions(tmp_path: Path) -> None:
    session, provider, swarm, _ = make_root(tmp_path)
    reply, gate = gated("delta result")
    provider.script("delta", reply)
    spawn = session.tools.get("spawn")
    assert spawn is not None
    from app.core.agent.cancel import CancelToken
    from app.core.tools.base import ToolContext

    ctx = ToolContext(workspace=tmp_path, cancel=CancelToken())
    started = await spawn.run({"action": "spawn", "task": "delta task", "label": "Delta",
                               "tools": ["read_file"]}, ctx)
    assert "Started worker w1 (Delta)" in started.content and "10 tool rounds" in started.content
    await provider.key_seen("delta").wait()
    listed = await spawn.run({"action": "list"}, ctx)
    assert "RUNNING: Delta (id w1" in listed.content
    check = await spawn.run({"action": "check", "id": "w1"}, ctx)
    assert "RUNNING" in check.content
    with pytest.raises(ToolError, match="no worker 'w9'"):
        await spawn.run({"action": "check", "id": "w9"}, ctx)
    with pytest.raises(ToolError, match="unknown tools"):
        await spawn.run({"action": "spawn", "task": "x task", "tools": ["rm_rf"]}, ctx)
    assert swarm.workers["w1"].tools == ("read_file",)
    waiting = asyncio.ensure_future(spawn.run({"action": "wait", "id": "w1"}, ctx))
    gate.set()
    done = await waiting
    assert "finished in" in done.content and "delta result" in done.content
    # Reported through wait: not delivered a second time.
    assert swarm.take_reports(None) == []


async def test_worker_can_run_on_another_slot(tmp_path: Path) -> None:
    memory = KeyedProvider(model="memory-model")
    memory.script("sum", "summed")
    session, provider, swarm, _ = make_root(tmp_path, provider_for=lambda slot: memory)
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("sum task", model="memory")]),
                    "ok")
    await session.run_turn("root: use the memory slot")
    await swarm.wait(["w1"])
    assert swarm.workers["w1"].model == "memory-model" and swarm.workers["w1"].result == "summed"
    assert swarm.snapshot().rows[0].model == "memory-model"


async def test_workers_write_to_the_root_log_tagged(tmp_path: Path) -> None:
    session, provider, swarm, _ = make_root(tmp_path)
    provider.script("echo", ScriptedReply(tool_calls=[ToolCall("e1", "read_file",
                                                               {"path": "notes.txt"})]),
                    "PLUM")
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("echo task")]), "ok")
    await session.run_turn("root: log it")
    await swarm.wait(["w1"])
    assert session.store is not None
    path = session.store.path
    root = read_session(path)
    kinds = [type(e).__name__ for e in root.events]
    assert "WorkerSpawned" in kinds and "WorkerFinished" in kinds
    finished = next(e for e in root.events if isinstance(e, WorkerFinished))
    assert finished.result == "PLUM" and finished.state == "done"
    spawned = next(e for e in root.events if isinstance(e, WorkerSpawned))
    assert spawned.parent_id == "root" and spawned.max_iterations == 10
    assert not any(isinstance(e, MessageAdded) and e.message.content == "echo task"
                   for e in root.events)
    mine = read_session(path, worker="w1")
    contents = [e.message.content for e in mine.events if isinstance(e, MessageAdded)]
    assert contents[0] == "echo task" and "the code word is PLUM\n" in contents
    lines = swarm.transcript("w1")
    assert lines[0] == ("task", "echo task") and lines[-1] == ("end", "done")
    assert ("result", "the code word is PLUM\n") in lines
