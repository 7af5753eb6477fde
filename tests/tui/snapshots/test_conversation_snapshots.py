"""Snapshots of the conversation view: mid-stream at 80x24, a long history scrolled back with the
new-messages hint, the focused view with a tool block opened, a reply stopped by a steer.

Each run_before waits for the state it photographs and asserts on it (see test_snapshots.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.core.agent.messages import ToolCall
from app.core.providers.scripted import ScriptedReply
from app.tui.app import NanobotApp
from bench.stream import history_events
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks, screen_lines, scripted_factory
from tests.tui.snapshots.test_snapshots import CODE_REPLY, app_with, start_and_hold


def test_mid_stream_80x24(snap_compare: Any, tmp_path: Path) -> None:
    pieces = [CODE_REPLY[i:i + 9] for i in range(0, len(CODE_REPLY), 9)]
    reply = ScriptedReply(chunks=pieces, gate_at=len(pieces) // 2, gate=asyncio.Event())
    app = app_with(tmp_path, reply)

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "write add()")
        (streaming,) = blocks(app, "assistant")
        assert streaming.streaming and "```python" in streaming.text and app.busy
        assert any("def add" in line for line in screen_lines(app))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_long_history_scrolled_back(snap_compare: Any, tmp_path: Path) -> None:
    gate = asyncio.Event()
    reply = ScriptedReply(chunks=["A new answer starts here, ", "and goes on below the screen."],
                          gate_at=1, gate=gate)
    factory, _ = scripted_factory(tmp_path, reply)
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False,
                     resumed_events=history_events(1000))
    app.session.session_id = "20260101-120000-snap"

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*"and now?", "enter")
        await until(pilot, lambda: any("A new answer" in ln for ln in screen_lines(app)),
                    what="the answer on screen")
        await pilot.press("pageup", "pageup", "pageup")
        gate.set()
        await app.workers.wait_for_complete()
        conv = app.conversation
        await until(pilot, lambda: conv.unseen, what="the new-messages hint")
        app.flash.hide()
        await pilot.pause()
        assert len(conv.blocks) == 1000 + 2 and not conv.follow  # + the question, the answer
        assert "↓ new messages" in screen_lines(app)[-1]

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_focused_conversation_with_a_tool_block_open(snap_compare: Any, tmp_path: Path) -> None:
    for name in ("README.md", "app.py", "notes.txt", "setup.cfg", "tests"):
        (tmp_path / name).write_text("x")
    app = app_with(tmp_path, ScriptedReply(tool_calls=[ToolCall("c1", "list_dir", {"path": "."})]),
                   "There are **five** entries.")

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*"what is here?", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("shift+tab", "up", "enter")
        conv = app.conversation
        (tool,) = blocks(app, "tool")
        assert conv.has_focus and conv.selected_block() is tool and tool.open
        assert any("tests" in line for line in screen_lines(app))  # all five lines shown

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_reply_stopped_by_a_steer(snap_compare: Any, tmp_path: Path) -> None:
    story = ScriptedReply(chunks=["Once upon a time, ", "a robot learned ", "to garden. ", "It"],
                          gate_at=3, gate=asyncio.Event())
    app = app_with(tmp_path, story, "A robot gardens. The end.")

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "tell me a long story")
        await pilot.press(*"make it two sentences", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.flash.hide()
        await pilot.pause()
        first, second = blocks(app, "assistant")
        assert first.ended == "steered" and second.text == "A robot gardens. The end."
        assert [b.text for b in blocks(app, "steer")] == ["make it two sentences"]

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
