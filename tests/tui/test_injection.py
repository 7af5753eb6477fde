"""Steer (Enter while running), queue (Tab), recall (↑), the backtick inject line, persistence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from app.core.agent.messages import ToolCall
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.store.pending import PendingStore
from app.tui.screens.inject import InjectScreen
from tests.tui.harness import Recorder, blocks, make_app, said, tool_running_app
from widgets.pending_strip import PendingStrip
from widgets.prompt_input import PromptInput


def tool_chain(gate: asyncio.Event) -> list[ScriptedReply | str]:
    """A tool call whose result step waits on ``gate``, then an answer."""
    return [
        ScriptedReply(tool_calls=[ToolCall("c1", "list_dir", {"path": "."})]),
        ScriptedReply(chunks=["Reading ", "more"], gate_at=0, gate=gate),
        "done",
    ]


async def test_enter_while_running_steers_the_next_step(tmp_path: Path) -> None:
    gate = asyncio.Event()  # never opened: the model "writes" until something stops it
    app, provider = make_app(tmp_path, ScriptedReply(chunks=["a", "b"], gate_at=1, gate=gate),
                             ScriptedReply.call("read_file", path="x.txt"), "ok")
    (tmp_path / "x.txt").write_text("x")
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"list files", "enter")
        await provider.request_seen.wait()
        await pilot.press(*"use read_file on x.txt instead", "enter")
        # The reply in progress stops for the steer: no need to wait for the gate.
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not gate.is_set()
        # The steer reached the model as a user message on the very next request...
        second = provider.requests[1].messages
        assert [(m.role, m.content) for m in second[-2:]] == [
            ("assistant", "a"), ("user", "use read_file on x.txt instead")]
        steers = blocks(app, "steer")
        assert [s.text for s in steers] == ["use read_file on x.txt instead"]
        assert blocks(app, "assistant")[0].ended == "steered"
        strip = app.query_one(PendingStrip)
        assert strip.items == [] and len(app.pending) == 0
    assert rec.names.index("ReplySteered") < rec.names.index("Injected")


async def test_tab_queues_for_after_the_turn_and_it_runs_next(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, provider = make_app(tmp_path, ScriptedReply(chunks=["a", "b"], gate_at=1, gate=gate),
                             "second answer")
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"first", "enter")
        await provider.request_seen.wait()
        await pilot.press(*"then this", "tab")
        await pilot.pause()
        assert app.query_one(PendingStrip).items == [("queue", "then this")]
        assert app.session.pending_steers == ()  # not a steer
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert said(app) == ["first", "then this"]
        assert len(app.pending) == 0
    assert rec.names.count("TurnStarted") == 2


async def test_up_recalls_the_last_pending_message_for_editing(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, _, tool = tool_running_app(tmp_path, gate, "done")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"go", "enter")
        await tool.started.wait()  # steers wait for a running tool's result
        await pilot.press(*"steer one", "enter", *"steer two", "enter")
        assert app.session.pending_steers == ("steer one", "steer two")
        await pilot.press("up")
        prompt = app.query_one(PromptInput)
        assert prompt.value == "steer two"
        assert app.session.pending_steers == ("steer one",)  # withdrawn from the session
        assert [t for _, t in app.query_one(PendingStrip).items] == ["steer one"]
        gate.set()
        await app.workers.wait_for_complete()


async def test_pending_messages_are_on_disk_until_delivered(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, provider = make_app(tmp_path, ScriptedReply(chunks=["a", "b"], gate_at=1, gate=gate),
                             "next", persist=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"go", "enter")
        await provider.request_seen.wait()
        await pilot.press(*"later", "tab")
        await pilot.pause()
        assert app.session.store is not None
        pending_file = app.session.store.path.with_suffix(".pending.json")
        saved = json.loads(pending_file.read_text())
        assert [(r["kind"], r["text"]) for r in saved] == [("queue", "later")]
        # A crash now loses nothing: a fresh store for the same session sees it.
        assert [i.text for i in PendingStore(pending_file)] == ["later"]
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert not pending_file.exists()


async def test_cancel_keeps_the_queue_waiting(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, _, tool = tool_running_app(tmp_path, gate, "a steer's answer", "queued answer")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"go", "enter")
        await tool.started.wait()
        await pilot.press(*"a steer", "enter", *"queued", "tab")
        await pilot.press("escape", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # The undelivered steer joins the queue; nothing runs by itself after a cancel.
        assert [(i.kind, i.text) for i in app.pending] == [("queue", "a steer"),
                                                           ("queue", "queued")]
        assert not app.busy
        await pilot.press("enter")  # Enter on an empty prompt sends the next one...
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()  # ...and once it finishes, the rest follow
        await pilot.pause()
        assert said(app) == ["go", "a steer", "queued"]
        assert len(app.pending) == 0


async def test_backtick_opens_the_inject_line_only_while_running(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, _, tool = tool_running_app(tmp_path, gate, "done")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("`")
        prompt = app.query_one(PromptInput)
        assert prompt.value == "`", "idle: the backtick is typed"
        await pilot.press("backspace", *"go", "enter")
        await tool.started.wait()
        await pilot.press("`")
        await pilot.pause()
        assert isinstance(app.screen, InjectScreen)
        await pilot.press(*"stop and summarise", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, InjectScreen)
        assert app.session.pending_steers == ("stop and summarise",)
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any(u.text == "stop and summarise" for u in blocks(app, "steer"))


async def test_pending_messages_come_back_after_a_crash(tmp_path: Path) -> None:
    from app.tui.app import NanobotApp
    from tests.tui.harness import FIXED_HW, make_factory

    provider = ScriptedProvider(["the first answer", "answer to the saved one"])
    factory = make_factory(tmp_path, provider, persist=True)
    session = factory.new().session
    await session.run_turn("the first question")
    assert session.store is not None
    session.store.close()
    # What a crash leaves: a pending file with a steer that never reached the model.
    left = PendingStore.for_session(session.store.path)
    left.add("steer", "the steer the crash interrupted")
    app = NanobotApp(factory, resume=session.store.path, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.query_one(PendingStrip).items == [("queue", "the steer the crash interrupted")]
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert provider.requests[-1].messages[-1].content == "the steer the crash interrupted"
        assert len(app.pending) == 0
