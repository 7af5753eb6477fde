"""The turn loop on a scripted provider: events, tools, cancel, steering, bad model output."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    ErrorReported,
    Event,
    Injected,
    MessageAdded,
    ReplySteered,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
    Usage,
)
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import ProviderError, ProviderEvent, ProviderRequest, TextChunk
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.store.session_store import SessionStore, history_from_events, read_session
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools


def make(tmp_path: Path, *replies: ScriptedReply | str, store: bool = False,
         **opts: object) -> tuple[Session, ScriptedProvider, list[Event]]:
    provider = ScriptedProvider(replies)
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "ws" / "hello.txt").write_text("hello world\n")
    session = Session(
        provider, tools=ToolRegistry(default_tools()),
        options=SessionOptions(workspace=tmp_path / "ws", **opts),  # type: ignore[arg-type]
        store=SessionStore.create(tmp_path / "sessions") if store else None)
    events: list[Event] = []
    session.add_listener(events.append)
    return session, provider, events


async def test_text_turn_event_sequence(tmp_path: Path) -> None:
    session, _, events = make(tmp_path, "The answer is 51.")
    outcome = await session.run_turn("17*3?")
    assert outcome.status == "finished" and outcome.text == "The answer is 51."
    kinds = [type(e).__name__ for e in events]
    assert kinds[0:3] == ["SessionStarted", "TurnStarted", "MessageAdded"]
    assert kinds[-2:] == ["MessageAdded", "TurnFinished"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The answer is 51."
    assert any(isinstance(e, Usage) for e in events)
    turn_ids = {e.turn_id for e in events if type(e).__name__ != "SessionStarted"}
    assert len(turn_ids) == 1
    assert [m.role for m in session.history] == ["user", "assistant"]


async def test_tool_loop_runs_tool_and_feeds_result_back(tmp_path: Path) -> None:
    session, provider, events = make(
        tmp_path, ScriptedReply.call("read_file", path="hello.txt"), "It says hello world.")
    outcome = await session.run_turn("what is in hello.txt?")
    assert outcome.text == "It says hello world." and outcome.iterations == 2
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert started[0].label == "Reading hello.txt"
    assert finished[0].content == "hello world\n" and not finished[0].is_error
    second = provider.requests[1].messages
    assert second[-1].role == "tool" and second[-1].content == "hello world\n"


async def test_cancel_mid_stream_keeps_partial_reply_in_session_file(tmp_path: Path) -> None:
    gate = asyncio.Event()
    reply = ScriptedReply(chunks=["Part one. ", "Part two. ", "never shown"], gate_at=2, gate=gate)
    session, _provider, events = make(tmp_path, reply, store=True)
    seen = asyncio.Event()
    session.add_listener(lambda e: seen.set() if isinstance(e, TextDelta) and "two" in e.text
                         else None)
    task = asyncio.create_task(session.run_turn("tell me"))
    await seen.wait()
    assert session.cancel()
    outcome = await task
    assert outcome.status == "cancelled"
    assert outcome.text == "Part one. Part two. "
    assert isinstance(events[-1], TurnCancelled)
    assert not any(isinstance(e, TextDelta) and "never" in e.text for e in events)
    assert session.store is not None
    saved = read_session(session.store.path)
    assert saved.skipped == 0
    last = history_from_events(saved.events)[-1]
    assert last.role == "assistant" and last.cancelled and last.content == "Part one. Part two. "
    assert not session.cancel()  # nothing left to cancel


async def test_a_steer_during_a_tool_call_waits_for_its_result(tmp_path: Path) -> None:
    session, provider, events = make(tmp_path, ScriptedReply.call("list_dir", path="."),
                                     "Done, and I saw your note.")

    def steer_while_the_tool_runs(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            assert session.inject("also check hello.txt")

    session.add_listener(steer_while_the_tool_runs)
    outcome = await session.run_turn("list files")
    assert outcome.status == "finished"
    injected = [e for e in events if isinstance(e, Injected)]
    assert injected and injected[0].text == "also check hello.txt"
    second = provider.requests[1].messages
    assert [m.role for m in second[-2:]] == ["tool", "user"]
    assert second[-1].content == "also check hello.txt"
    assert not any(isinstance(e, ReplySteered) for e in events)
    assert not session.inject("too late")  # no turn running


async def test_a_steer_mid_answer_stops_the_text_keeps_it_and_goes_on(tmp_path: Path) -> None:
    long = ScriptedReply(chunks=[f"word{i} " for i in range(500)])
    session, provider, events = make(tmp_path, long, "Short version.")
    provider.delay = 0.01  # a model writing at 100 tokens a second

    def steer_after_a_few_words(ev: Event) -> None:
        if isinstance(ev, TextDelta) and ev.text == "word3 ":
            assert session.inject("make it short")

    session.add_listener(steer_after_a_few_words)
    outcome = await session.run_turn("write at length")
    assert outcome.status == "finished" and outcome.text == "Short version."
    steered = [e for e in events if isinstance(e, ReplySteered)]
    assert len(steered) == 1 and steered[0].partial_text.startswith("word0 word1 word2 word3")
    shown = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert shown.count("word") <= 5  # stopped at the next chunk, not at the end of 500
    assert provider.chunks_after_cancel == 0
    # The model sees its partial reply (kept, marked) and then the steer.
    second = provider.requests[1].messages
    assert [m.role for m in second[-3:]] == ["user", "assistant", "user"]
    assert second[-2].cancelled and second[-2].content == steered[0].partial_text
    assert second[-1].content == "make it short"
    order = [type(e).__name__ for e in events]
    assert order.index("ReplySteered") < order.index("Injected") < order.index("TurnFinished")


async def test_a_steer_does_not_cut_a_tool_call_being_written(tmp_path: Path) -> None:
    call = '{"name": "list_dir", "arguments": {"path": "."}}'
    reply = ScriptedReply(chunks=[call[i:i + 4] for i in range(0, len(call), 4)])
    session, provider, events = make(tmp_path, reply, "Listed, and noted.")
    inner = provider.stream

    async def stream(request: ProviderRequest, cancel: CancelToken
                     ) -> AsyncIterator[ProviderEvent]:
        async for n, ev in aiter_enumerate(inner(request, cancel)):
            yield ev
            if n == 3 and len(provider.requests) == 1:  # the call is a third written
                assert session.inject("and hello.txt")

    provider.stream = stream  # type: ignore[method-assign]
    outcome = await session.run_turn("list")
    assert outcome.status == "finished"
    assert any(isinstance(e, ToolCallFinished) and e.name == "list_dir" for e in events)
    assert not any(isinstance(e, ReplySteered) for e in events)
    assert provider.requests[1].messages[-1].content == "and hello.txt"


async def aiter_enumerate(it: AsyncIterator[ProviderEvent]
                          ) -> AsyncIterator[tuple[int, ProviderEvent]]:
    n = 0
    async for ev in it:
        yield n, ev
        n += 1


async def test_malformed_call_reported_once_then_loop_goes_on(tmp_path: Path) -> None:
    session, provider, events = make(
        tmp_path, '{"name": read_file arguments}', "Plain answer.")
    outcome = await session.run_turn("read it")
    assert outcome.status == "finished" and outcome.text == "Plain answer."
    assert any(isinstance(e, ErrorReported) for e in events)
    notice = provider.requests[1].messages[-1]
    assert notice.role == "notice" and "could not be parsed" in notice.content


async def test_third_malformed_call_ends_the_turn(tmp_path: Path) -> None:
    bad = '{"name": read_file arguments}'
    session, _, events = make(tmp_path, bad, bad, bad, "never")
    outcome = await session.run_turn("read it")
    assert outcome.status == "finished" and "malformed tool calls" in outcome.text
    assert sum(isinstance(e, ErrorReported) for e in events) == 3


async def test_unknown_tool_and_bad_arguments_are_structured_errors(tmp_path: Path) -> None:
    session, _provider, events = make(
        tmp_path, ScriptedReply.call("teleport", to="mars"),
        ScriptedReply.call("read_file", path=42), "ok")
    await session.run_turn("go")
    results = [e for e in events if isinstance(e, ToolCallFinished)]
    assert results[0].is_error and "unknown tool 'teleport'" in results[0].content
    assert "list_dir" in results[0].content
    assert results[1].is_error and "'path' must be string" in results[1].content


async def test_repeated_identical_call_replays_and_forces_an_answer(tmp_path: Path) -> None:
    call = ScriptedReply.call("list_dir", path=".")
    again = ScriptedReply.call("list_dir", path=".")
    session, provider, events = make(tmp_path, call, again, "hello.txt is here")
    outcome = await session.run_turn("files?")
    assert outcome.text == "hello.txt is here"
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert "identical call" in finished[1].content
    # Answer only: calls are off, the tool list stays (the prompt prefix, and its cache, hold).
    assert provider.requests[2].answer_only
    assert provider.requests[2].tools == provider.requests[1].tools


async def test_iteration_cap(tmp_path: Path) -> None:
    replies = [ScriptedReply.call("read_file", path=f"f{i}.txt") for i in range(5)]
    session, _, events = make(tmp_path, *replies, max_iterations=3)
    outcome = await session.run_turn("loop")
    assert outcome.iterations == 3 and "Stopped after 3" in outcome.text
    assert isinstance(events[-1], TurnFinished)


async def test_provider_error_fails_turn_without_raising(tmp_path: Path) -> None:
    session, _, events = make(tmp_path, ScriptedReply(error=ProviderError("boom")))
    outcome = await session.run_turn("x")
    assert outcome.status == "failed" and isinstance(events[-1], TurnFailed)
    assert not session.running


async def test_turn_ids_differ_and_second_turn_sees_history(tmp_path: Path) -> None:
    session, provider, events = make(tmp_path, "one", "two")
    await session.run_turn("a")
    await session.run_turn("b")
    ids = {e.turn_id for e in events if isinstance(e, TurnStarted)}
    assert len(ids) == 2
    assert [m.content for m in provider.requests[1].messages[1:]] == ["a", "one", "b"]


async def test_running_turn_rejects_second_submit(tmp_path: Path) -> None:
    gate = asyncio.Event()
    session, provider, _ = make(tmp_path, ScriptedReply(chunks=["x", "y"], gate_at=1, gate=gate))
    task = asyncio.create_task(session.run_turn("a"))
    await provider.request_seen.wait()
    with pytest.raises(RuntimeError):
        await session.run_turn("b")
    gate.set()
    assert (await task).status == "finished"


async def test_listener_failure_does_not_break_turn(tmp_path: Path) -> None:
    session, _, events = make(tmp_path, "fine")

    def boom(_: Event) -> None:
        raise ValueError("listener bug")

    session.add_listener(boom)
    assert (await session.run_turn("x")).status == "finished"
    assert any(isinstance(e, MessageAdded) for e in events)


async def test_a_burst_of_queued_chunks_lets_the_event_loop_run(tmp_path: Path) -> None:
    """A provider whose chunks are all there already never suspends; the loop yields now and
    then so timers (the UI's batching, its frames) run during the burst."""
    session, provider, _ = make(tmp_path)

    async def burst(request: ProviderRequest, cancel: CancelToken
                    ) -> AsyncIterator[ProviderEvent]:
        for i in range(1000):
            yield TextChunk(f"w{i} ")  # no await in between: nothing suspends

    provider.stream = burst  # type: ignore[method-assign]
    ticks = 0
    seen: list[int] = []

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)  # one tick per loop turn: the count is the measurement

    session.add_listener(lambda ev: seen.append(ticks) if isinstance(ev, TextDelta) else None)
    task = asyncio.create_task(ticker())
    await session.run_turn("go")
    task.cancel()
    assert len(seen) >= 900 and seen[-1] - seen[0] >= 20  # the ticker ran during the burst
