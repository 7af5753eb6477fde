"""Message coalescing on a real session with a scripted model: merged turns, timing, commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.agent.coalesce import Coalescer, MessageReceived, merge
from app.core.agent.events import Event, TurnStarted
from app.core.agent.session import Session, SessionOptions
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.store.session_store import SessionStore, read_session


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def setup(tmp_path: Path, *replies: ScriptedReply | str, window_s: float = 0.0
          ) -> tuple[Session, ScriptedProvider, Coalescer, list[str], Clock, list[Event]]:
    provider = ScriptedProvider(replies)
    session = Session(provider, options=SessionOptions(workspace=tmp_path),
                      store=SessionStore.create(tmp_path / "sessions"))
    events: list[Event] = []
    session.add_listener(events.append)
    commands: list[str] = []

    async def command(text: str) -> None:
        commands.append(text)

    clock = Clock()
    co = Coalescer(session.run_turn, command, log_event=session.emit, window_s=window_s,
                   clock=clock)
    return session, provider, co, commands, clock, events


def test_merge_keeps_relative_timing() -> None:
    assert merge([(1.0, "hey"), (1.1, "check this"), (1.35, "please")]) == (
        "hey\n[+100ms] check this\n[+350ms] please")


async def test_messages_queued_during_a_turn_become_one_turn(tmp_path: Path) -> None:
    gate = asyncio.Event()
    _session, provider, co, _, clock, events = setup(
        tmp_path, ScriptedReply(chunks=["first ", "answer"], gate_at=1, gate=gate), "merged")
    co.submit("hey")
    await provider.request_seen.wait()
    clock.now += 2.0
    co.submit("check this")
    clock.now += 0.1
    co.submit("and this")
    clock.now += 0.25
    co.submit("please")
    gate.set()
    await co.drain()
    turns = [e.text for e in events if isinstance(e, TurnStarted)]
    assert turns == ["hey", "check this\n[+100ms] and this\n[+350ms] please"]
    assert [m.content for m in provider.requests[1].messages if m.role == "user"][-1] == turns[1]


async def test_slash_commands_are_never_merged_and_keep_their_place(tmp_path: Path) -> None:
    gate = asyncio.Event()
    _session, provider, co, commands, clock, events = setup(
        tmp_path, ScriptedReply(chunks=["a", "b"], gate_at=1, gate=gate), "two", "three")
    co.submit("one")
    await provider.request_seen.wait()
    for text in ("x", "y", "/compact", "/model local", "z"):
        clock.now += 0.05
        co.submit(text)
    gate.set()
    await co.drain()
    assert [t for t, _ in co.delivered] == ["one", "x\n[+50ms] y", "/compact", "/model local",
                                            "z"]
    assert commands == ["/compact", "/model local"]
    assert [e.text for e in events if isinstance(e, TurnStarted)] == ["one", "x\n[+50ms] y", "z"]


async def test_every_original_is_logged_before_it_is_merged(tmp_path: Path) -> None:
    session, _provider, co, _, clock, _ = setup(tmp_path, "ok", window_s=0.5)
    co.submit("part one")  # idle: the window, anchored here, gathers what follows
    clock.now += 0.2
    co.submit("part two")
    clock.now += 0.4  # past the window: the runner stops waiting
    await co.drain()
    assert co.delivered == [("part one\n[+200ms] part two", ("part one", "part two"))]
    assert session.store is not None
    saved = read_session(session.store.path).events
    kinds = [(type(e).__name__, getattr(e, "text", "")) for e in saved
             if isinstance(e, MessageReceived | TurnStarted)]
    assert kinds == [("MessageReceived", "part one"), ("MessageReceived", "part two"),
                     ("TurnStarted", "part one\n[+200ms] part two")]


async def test_a_failing_turn_does_not_stop_the_queue(tmp_path: Path) -> None:
    delivered: list[str] = []

    async def turn(text: str) -> None:
        delivered.append(text)
        if text == "boom":
            raise RuntimeError("turn crashed")

    async def command(text: str) -> None:
        delivered.append(text)

    co = Coalescer(turn, command, window_s=0.0)
    co.submit("boom")
    co.submit("/help")
    co.submit("after")
    co.submit("   ")  # blank: ignored
    await co.drain()
    assert delivered == ["boom", "/help", "after"]
