"""Snapshot tests (pytest-textual-snapshot). Update with: pytest --snapshot-update, then LOOK.

Deterministic by construction: fixed hardware numbers, a fixed session id, no cursor blink, no
clock on screen, tool durations under a second are not shown, and every run_before waits for the
state it photographs (and asserts on it, so a snapshot of the wrong screen fails).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from app.core.agent.events import Usage
from app.core.agent.messages import ToolCall
from app.core.harness.config import HarnessConfig
from app.core.providers.replay import ReplayProvider, ReplayScript, ReplayTools
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from app.tui.bridge import CoreEvent
from app.tui.screens.help import HelpScreen
from app.tui.screens.sessions import SessionsScreen
from tests.pilot_wait import until
from tests.tui.harness import (
    DEMO_LOG,
    FIXED_HW,
    blocks,
    make_factory,
    screen_lines,
    tool_running_app,
)
from widgets.flash import Flash
from widgets.pending_strip import PendingStrip

CODE_REPLY = ("Here is the function:\n\n```python\ndef add(a: int, b: int) -> int:\n"
              "    return a + b\n```\n\nAnd a test:\n\n```python\nassert add(2, 3) == 5\n```\n")


def app_with(tmp_path: Path, *replies: ScriptedReply | str, harness: HarnessConfig | None = None,
             **kwargs: Any) -> NanobotApp:
    provider = ScriptedProvider(replies, model="qwen2.5-coder-0.5b")
    app = NanobotApp(make_factory(tmp_path, provider, harness=harness), hardware=FIXED_HW,
                     blink=False, **kwargs)
    app.session.session_id = "20260101-120000-snap"  # the status bar shows it
    return app


def provider_of(app: NanobotApp) -> Any:
    return app.session.provider


async def settle_view(pilot: Pilot[None], app: NanobotApp) -> None:
    """Hide the timed flash and make sure the conversation follows its end."""
    app.flash.hide()
    await pilot.pause()
    app.conversation.scroll_to_end()
    await pilot.pause()


async def type_and_wait(pilot: Pilot[None], text: str) -> None:
    app = pilot.app
    assert isinstance(app, NanobotApp)
    await pilot.press(*text, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def start_and_hold(pilot: Pilot[None], text: str) -> NanobotApp:
    """Submit ``text``; return once the gated reply has streamed up to its gate, on screen."""
    app = pilot.app
    assert isinstance(app, NanobotApp)
    await pilot.press(*text, "enter")
    await provider_of(app).request_seen.wait()
    await pilot.pause()
    await app.settle()
    await pilot.pause()
    return app


def test_empty_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(tmp_path)
    assert snap_compare(app, terminal_size=(80, 24))


def test_empty_screen_wide(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(app_with(tmp_path), terminal_size=(140, 40))


def test_narrow_terminal_hides_the_side_column(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(tmp_path, "Short answer.")

    async def run_before(pilot: Pilot[None]) -> None:
        await type_and_wait(pilot, "hi")
        assert not app.side.display

    assert snap_compare(app, terminal_size=(60, 18), run_before=run_before)


def test_mid_stream_reply_with_a_code_block(snap_compare: Any, tmp_path: Path) -> None:
    pieces = [CODE_REPLY[i:i + 9] for i in range(0, len(CODE_REPLY), 9)]
    hold = len(pieces) - 2  # stop inside the second code fence
    reply = ScriptedReply(chunks=pieces, gate_at=hold, gate=asyncio.Event())
    app = app_with(tmp_path, reply)

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "write add() with a test")
        (reply,) = blocks(app, "assistant")
        streamed = reply.text
        # (the loop may hold back a trailing newline until it knows no tool call starts there)
        assert "".join(pieces[:hold]).startswith(streamed) and streamed.count("```python") == 2
        assert app.busy and reply.streaming

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def _thinking_app(tmp_path: Path) -> NanobotApp:
    reply = ScriptedReply(chunks=["The answer is 4."],
                          reasoning=["The user asks 2+2. ", "That is basic arithmetic; ",
                                     "the sum is 4."], gate_at=0, gate=asyncio.Event())
    return app_with(tmp_path, reply)


def test_thinking_shown(snap_compare: Any, tmp_path: Path) -> None:
    app = _thinking_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "2+2?")
        (block,) = blocks(app, "thinking")
        assert block.streaming and "basic arithmetic" in block.text
        assert any("basic arithmetic" in line for line in screen_lines(app))

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_thinking_hidden(snap_compare: Any, tmp_path: Path) -> None:
    app = _thinking_app(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "2+2?")
        await pilot.press("ctrl+t")
        # The toggle's flash line comes and goes on a timer: photograph the state after it.
        await until(pilot, lambda: "thinking off" in app.flash.message, what="the toggle's flash")
        app.flash.hide()
        await pilot.pause()
        assert not app.conversation.show_thinking and blocks(app, "thinking")
        assert not any("basic arithmetic" in line for line in screen_lines(app))
        assert app.status_bar.thinking == "off"

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_tool_call_block(snap_compare: Any, tmp_path: Path) -> None:
    for name in ("README.md", "app.py", "notes.txt", "setup.cfg", "tests"):
        (tmp_path / name).write_text("x")
    app = app_with(tmp_path, ScriptedReply(tool_calls=[ToolCall("c1", "list_dir", {"path": "."})]),
                   "There are **five** entries.")

    async def run_before(pilot: Pilot[None]) -> None:
        await type_and_wait(pilot, "what is here?")
        (block,) = blocks(app, "tool")
        assert block.status == "ok" and "README.md" in block.text

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_grounded_read_and_vote_badge(snap_compare: Any, tmp_path: Path) -> None:
    """A file the request names is shown as read for it; a small model's voted call shows its
    tally."""
    from dataclasses import replace

    from app.core.harness.config import HarnessConfig

    (tmp_path / "notes.txt").write_text("buy milk\n")
    (tmp_path / "todo.txt").write_text("call mum\n")
    listing = ScriptedReply(tool_calls=[ToolCall("c1", "list_dir", {"path": "."})])
    app = app_with(tmp_path, listing, listing, "It says buy milk.", "It says buy milk.",
                   harness=HarnessConfig(vote_k=2))
    provider = provider_of(app)
    provider.capabilities = replace(provider.capabilities, small=True)

    async def run_before(pilot: Pilot[None]) -> None:
        await type_and_wait(pilot, "what does notes.txt say?")
        tools = [b for b in app.conversation.blocks if b.kind == "tool"]
        assert [(b.name, b.badge) for b in tools] == [
            ("read_file", "read for your request"), ("list_dir", "vote 2/2")]
        await settle_view(pilot, app)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def _held_reply() -> ScriptedReply:
    return ScriptedReply(chunks=["Counting: ", "one, ", "two, ", "three, ", "four"], gate_at=4,
                         gate=asyncio.Event())


def test_cancel_hint(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(tmp_path, _held_reply())

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "count")
        await pilot.press("escape")
        await until(pilot, lambda: "Esc again" in app.query_one(Flash).message, what="the hint")
        assert app.session.running
        # The hint hides itself after two seconds; on a loaded machine the photograph can come
        # later than that, so keep the same hint up for the photograph.
        app.flash.show(app.flash.message, "warning", 60)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_cancelled_marker(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(tmp_path, _held_reply())

    async def run_before(pilot: Pilot[None]) -> None:
        await start_and_hold(pilot, "count")
        await pilot.press("escape", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await settle_view(pilot, app)  # the "Cancelling…" flash is on a timer: photograph the result
        assert blocks(app, "assistant")[0].cancelled and not app.busy

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_injection_strip(snap_compare: Any, tmp_path: Path) -> None:
    gate = asyncio.Event()  # a tool runs: the steer waits for its result, visible in the strip
    app, _, tool = tool_running_app(tmp_path, gate, "done")
    app.session.session_id = "20260101-120000-snap"

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*"count", "enter")
        await tool.started.wait()
        await pilot.pause()
        await pilot.press(*"count in French instead", "enter", *"then say goodbye", "tab")
        await pilot.pause()
        assert app.query_one(PendingStrip).items == [("steer", "count in French instead"),
                                                     ("queue", "then say goodbye")]

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


@pytest.mark.parametrize(("used", "band"), [(2000, "low"), (5000, "mid"), (7000, "high"),
                                            (8000, "full")])
def test_meter_band(snap_compare: Any, tmp_path: Path, used: int, band: str) -> None:
    app = app_with(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        app.post_message(CoreEvent(Usage("t0", used - 100, 100, used, 8192)))
        await pilot.pause()
        assert app.meter.band == band

    assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    app = app_with(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)

    assert snap_compare(app, terminal_size=(100, 50), run_before=run_before)


def test_sessions_screen(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                         ) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    d = get_paths().sessions_dir
    d.mkdir(parents=True)
    for i, (title, model) in enumerate([("Fix the flaky test", "qwen2.5-coder-0.5b"),
                                        ("Explain asyncio", "openai:gpt-4.1-mini")]):
        path = d / f"2026010{i + 1}-090000-00000{i}.jsonl"
        path.write_text(f'{{"type": "SessionStarted", "turn_id": "", "ts": 1767258000, '
                        f'"session_id": "{path.stem}", "model": "{model}", "provider": "x"}}\n'
                        f'{{"type": "TurnStarted", "turn_id": "t1", "text": "{title}"}}\n')
        os.utime(path, (1767258000 + 86400 * i, 1767258000 + 86400 * i))
    app = app_with(tmp_path)

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press(*"/sessions", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen) and len(app.screen.infos) == 2

    try:
        assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)
    finally:
        monkeypatch.undo()
        time.tzset()


def _replay_app() -> NanobotApp:
    script = ReplayScript.load(DEMO_LOG)
    provider = ReplayProvider(script)
    factory = SessionFactory(Config(), provider, tools=lambda: ReplayTools(script), features=())
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False, replay=provider)
    app.session.session_id = "replay"  # the status bar shows it
    return app


@pytest.mark.parametrize("size", [(80, 24), (120, 45)])
def test_demo_replay(snap_compare: Any, size: tuple[int, int]) -> None:
    app = _replay_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await settle_view(pilot, app)
        assert len(blocks(app, "tool")) == 2

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_light_theme(snap_compare: Any) -> None:
    app = _replay_app()

    async def run_before(pilot: Pilot[None]) -> None:
        await app.workers.wait_for_complete()
        app.ops.set_theme("nanobot-light", persist=False)
        await pilot.pause()
        await settle_view(pilot, app)
        assert app.theme == "nanobot-light"

    assert snap_compare(app, terminal_size=(120, 45), run_before=run_before)
