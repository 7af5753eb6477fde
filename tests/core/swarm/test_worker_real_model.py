"""A worker on the real bundled model, end to end: spawned by the spawn tool, runs a real tool call
on llama.cpp in-process, and its result comes back to the parent as a message."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from app.core.agent.messages import ToolCall
from app.core.agent.session import SessionOptions
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import Config
from app.core.store.session_store import read_session
from app.core.swarm.events import WorkerFinished
from app.runtime.factory import (
    SessionFactory,
    builtin_tool_source,
    install_compaction,
    install_swarm,
)
from tests.core.swarm.swarm_helpers import KeyedProvider, gated, make_root

pytestmark = pytest.mark.model


async def test_a_worker_runs_on_the_default_local_model(local_model: LlamaInProcessProvider,
                                                        tmp_path: Path) -> None:
    local_model._llama.reset()
    session, provider, swarm, _ = make_root(tmp_path, provider_for=lambda slot: local_model)
    ws = session.options.workspace
    (ws / "alpha.txt").write_text("a")
    (ws / "beta.py").write_text("b = 1")
    session.options.max_tokens = 96  # workers inherit it: keeps the real run short
    provider.script("root", ScriptedReply(tool_calls=[ToolCall("c1", "spawn", {
        "action": "spawn", "task": "Which files are in this folder? Use a tool.",
        "label": "list files", "tools": ["list_dir"], "model": "main"})]),
        ScriptedReply(tool_calls=[ToolCall("c2", "spawn", {"action": "wait", "id": "w1"})]),
        "The worker listed the files.")
    outcome = await session.run_turn("root: ask a worker which files are here")
    assert outcome.status == "finished"
    worker = swarm.workers["w1"]
    assert worker.state == "done", (worker.state, worker.stop_reason, worker.error)
    assert worker.model == local_model.model and worker.budget.max_iterations == 10
    assert worker.session is not None
    calls = [c for m in worker.session.history for c in m.tool_calls]
    assert calls and calls[0].name == "list_dir"
    listing = next(m.content for m in worker.session.history if m.role == "tool")
    assert "alpha.txt" in listing and "beta.py" in listing
    assert worker.result.strip()
    # The result reached the parent as the wait tool's result, and the log has it all.
    waited = next(m for m in session.history if m.role == "tool" and m.tool_call_id == "c2")
    assert "finished in" in waited.content and worker.result in waited.content
    assert session.store is not None
    finished = [e for e in read_session(session.store.path).events
                if isinstance(e, WorkerFinished)]
    assert finished and finished[0].state == "done" and finished[0].result == worker.result
    assert read_session(session.store.path, worker="w1").events


async def test_the_default_model_answers_about_a_running_worker_without_a_tool(
        local_model: LlamaInProcessProvider, tmp_path: Path) -> None:
    local_model._llama.reset()
    now = [1000.0]
    worker_model = KeyedProvider(model="index-model")
    reply, gate = gated("indexed 12 files")
    worker_model.script("index", reply)
    factory = SessionFactory(
        Config(), local_model,
        options=SessionOptions(workspace=tmp_path, max_tokens=48, max_iterations=3),
        tools=builtin_tool_source(Config()), slot_provider=lambda slot: worker_model,
        features=(partial(install_swarm, clock=lambda: now[0]), install_compaction))
    session = factory.new().session
    swarm = session.swarm
    assert swarm is not None
    swarm.spawn(None, "index the docs", label="index the docs", model="memory")
    await worker_model.key_seen("index").wait()
    now[0] += 42.0
    outcome = await session.run_turn("How is the background job going?")
    calls = [c.name for m in session.history for c in m.tool_calls]
    assert outcome.iterations == 1 and calls == [], (calls, outcome.text)
    assert any(w in outcome.text.lower() for w in ("running", "progress", "not finished",
                                                    "still", "index")), outcome.text
    gate.set()
    await swarm.wait(["w1"])
