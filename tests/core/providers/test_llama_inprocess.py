"""The real bundled GGUF through llama-cpp-python: answers, grammar tool calls, cancellation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ReplySteered, TextDelta
from app.core.agent.messages import system, user
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import (
    ProviderRequest,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.store.session_store import SessionStore, history_from_events, read_session
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools

pytestmark = pytest.mark.model


async def collect(provider: LlamaInProcessProvider, request: ProviderRequest) -> list[object]:
    return [ev async for ev in provider.stream(request, CancelToken())]


async def test_answers_with_the_gguf_template(local_model: LlamaInProcessProvider) -> None:
    req = ProviderRequest(messages=(system("You are helpful."),
                                    user("What is 17*3? Reply with the number only.")),
                          max_tokens=16)
    events = await collect(local_model, req)
    text = "".join(e.text for e in events if isinstance(e, TextChunk))
    assert "51" in text
    usage = next(e for e in events if isinstance(e, UsageChunk))
    assert usage.prompt_tokens > 10 and usage.completion_tokens >= 1
    assert "<|im_start|>user" in local_model.render_prompt(req)  # Qwen's own template


async def test_grammar_makes_the_tool_call_parse(local_model: LlamaInProcessProvider) -> None:
    tools = tuple(t.spec for t in default_tools())
    req = ProviderRequest(messages=(user("Which files are in this folder? Use a tool."),),
                          tools=tools, max_tokens=64)
    events = await collect(local_model, req)
    calls = [e.call for e in events if isinstance(e, ToolCallChunk)]
    assert len(calls) == 1 and calls[0].name == "list_dir"
    assert not [e for e in events if isinstance(e, TextChunk)]  # the JSON never reaches the view


async def test_cancel_mid_stream_stops_worker_within_a_chunk(
        local_model: LlamaInProcessProvider, tmp_path: Path) -> None:
    session = Session(local_model, tools=ToolRegistry(),
                      options=SessionOptions(workspace=tmp_path, max_tokens=400),
                      store=SessionStore.create(tmp_path / "sessions"))
    deltas: list[str] = []
    enough = asyncio.Event()

    def on(ev: Event) -> None:
        if isinstance(ev, TextDelta):
            deltas.append(ev.text)
            if len(deltas) >= 8:
                enough.set()

    session.add_listener(on)
    before = local_model.chunks_after_cancel
    task = asyncio.create_task(session.run_turn(
        "Write the numbers from 1 to 300, separated by commas."))
    await enough.wait()
    session.cancel()
    outcome = await task
    thread = local_model.last_thread
    assert thread is not None
    await asyncio.to_thread(thread.join, 30)
    assert not thread.is_alive()
    assert local_model.chunks_after_cancel - before <= 1
    assert outcome.status == "cancelled" and outcome.text
    assert session.store is not None
    saved = history_from_events(read_session(session.store.path).events)
    assert saved[-1].role == "assistant" and saved[-1].cancelled
    assert saved[-1].content == outcome.text and outcome.text.startswith("".join(deltas)[:5])


async def test_a_steer_mid_answer_stops_the_model_and_the_turn_goes_on(
        local_model: LlamaInProcessProvider, tmp_path: Path) -> None:
    session = Session(local_model, tools=ToolRegistry(),
                      options=SessionOptions(workspace=tmp_path, max_tokens=300))
    events: list[Event] = []
    deltas: list[str] = []

    def on(ev: Event) -> None:
        events.append(ev)
        if isinstance(ev, TextDelta):
            deltas.append(ev.text)
            if len(deltas) == 6:  # mid-answer: the model is writing plain text
                assert session.inject("Stop. Reply with just the word OK.")

    session.add_listener(on)
    before = local_model.chunks_after_cancel
    outcome = await session.run_turn("Write the numbers from 1 to 300, separated by commas.")
    steered = [e for e in events if isinstance(e, ReplySteered)]
    assert len(steered) == 1 and steered[0].partial_text
    # The first generation stopped at its next chunk, not after 300 tokens.
    assert local_model.chunks_after_cancel - before <= 1
    assert len(steered[0].partial_text) < 200
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ReplySteered") < kinds.index("Injected") < kinds.index("TurnFinished")
    assert outcome.status == "finished"  # what the 0.5B model answers is not the point here
    history = session.history
    steer_at = next(i for i, m in enumerate(history) if m.content.startswith("Stop. Reply"))
    assert history[steer_at - 1].role == "assistant" and history[steer_at - 1].cancelled


async def test_cancel_during_prompt_evaluation_then_model_still_works(
        local_model: LlamaInProcessProvider) -> None:
    long_prompt = "Summarise this log.\n" + "\n".join(
        f"2026-01-01 12:00:{i % 60:02d} worker-{i} finished job {i} in {i * 7 % 97} ms"
        for i in range(90))
    cancel = CancelToken()
    req = ProviderRequest(messages=(user(long_prompt),), max_tokens=32)
    agen = local_model.stream(req, cancel)
    first = asyncio.ensure_future(agen.__anext__())
    await asyncio.to_thread(local_model._gen_lock.acquire)  # wait until the worker holds the lock
    local_model._gen_lock.release()
    cancel.cancel()
    with pytest.raises(StopAsyncIteration):
        await first
    assert local_model.last_thread is not None
    await asyncio.to_thread(local_model.last_thread.join, 30)
    assert not local_model.last_thread.is_alive()
    again = await collect(local_model, ProviderRequest(
        messages=(user("Say OK."),), max_tokens=8))
    assert "".join(e.text for e in again if isinstance(e, TextChunk)).strip()
