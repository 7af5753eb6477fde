"""Pilot tests of the main flows on a scripted provider, asserting the message sequence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.providers.scripted import ScriptedReply
from tests.tui.harness import Recorder, make_app
from widgets.assistant_message import AssistantMessage
from widgets.conversation import Conversation
from widgets.notice_line import NoticeLine
from widgets.status_bar import StatusBar
from widgets.thinking_block import ThinkingBlock
from widgets.tool_call import ToolCallBlock
from widgets.user_message import UserMessage


async def test_typed_question_streams_an_answer(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "**51** is the answer.")
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"17*3?", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(UserMessage).text == "17*3?"
        msg = app.query_one(AssistantMessage)
        assert msg.source == "**51** is the answer."
        assert app.query_one(StatusBar).state == "idle"
    core = rec.core()
    assert core[:4] == ["PromptInput.Submitted", "SessionStarted", "TurnStarted", "MessageAdded"]
    assert "TextDelta" in core and core.index("TextDelta") < core.index("TurnFinished")
    assert core[-1] == "TurnFinished"


async def test_deltas_reach_the_view_in_batches(tmp_path: Path) -> None:
    reply = ScriptedReply(chunks=[f"w{i} " for i in range(200)])
    app, _ = make_app(tmp_path, reply, flush_seconds=10.0)  # one timer for the whole reply
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"go", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "".join(m.source for m in app.query(AssistantMessage))
        assert text == "".join(f"w{i} " for i in range(200))
    # 200 deltas, flushed once (by the non-delta event after them): one merged delta reached the UI
    assert rec.names.count("TextDelta") == 1
    assert app.bridge.batches == 1


async def test_tool_call_block_then_answer(tmp_path: Path) -> None:
    (tmp_path / "alpha.txt").write_text("a")
    app, _ = make_app(tmp_path, ScriptedReply.call("list_dir", path="."), "There is alpha.txt.")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"ls", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        block = app.query_one(ToolCallBlock)
        assert block.tool_name == "list_dir" and block.status == "ok"
        assert "alpha.txt" in block.result
        children = list(app.query_one(Conversation).children)
        assert children.index(block) < children.index(app.query_one(AssistantMessage))
        block.focus()
        await pilot.press("enter")
        assert block.expanded


async def test_thinking_block_streams_and_folds_when_the_answer_starts(tmp_path: Path) -> None:
    reply = ScriptedReply(chunks=["Answer."], reasoning=["Let me ", "think."])
    app, provider = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.thinking  # ui.show_thinking defaults on
        await pilot.press(*"q", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        block = app.query_one(ThinkingBlock)
        assert block.text == "Let me think." and block.collapsed
        assert provider.requests[-1].thinking


async def test_provider_error_shows_an_error_marker(tmp_path: Path) -> None:
    from app.core.providers.base import ProviderError

    app, _ = make_app(tmp_path, ScriptedReply(error=ProviderError("server said no")))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = [n for n in app.query(NoticeLine) if n.kind == "error"]
        assert errors and "server said no" in errors[0].text
        assert not app.busy


async def test_malformed_markdown_renders_without_crashing(tmp_path: Path) -> None:
    table = "| a | b |\n|---|---|\n" + "".join(f"| {i} | {'x' * 50} |\n" for i in range(300))
    text = "```python\nprint('never closed')\n" + "\n" * 3 + table + "**bold never closed\n"
    reply = ScriptedReply(chunks=[text[i:i + 7] for i in range(0, len(text), 7)])
    app, _ = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"x", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "".join(m.source for m in app.query(AssistantMessage)) == text


async def test_long_reply_is_split_into_small_documents(tmp_path: Path) -> None:
    para = "A paragraph of text that goes on for a while. " * 8 + "\n\n"
    fence = "```python\n" + "x = 1\n\n" * 30 + "```\n\n"  # blank lines inside the fence
    text = (para * 10 + fence) * 4
    reply = ScriptedReply(chunks=[text[i:i + 40] for i in range(0, len(text), 40)])
    app, _ = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"x", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        segments = list(app.query(AssistantMessage))
        assert len(segments) > 3
        assert "".join(s.source for s in segments) == text
        for s in segments:  # no cut inside a fence: every segment has balanced fences
            assert s.source.count("```") % 2 == 0


async def test_escape_twice_cancels_and_keeps_the_partial_reply(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, provider = make_app(tmp_path, ScriptedReply(chunks=["partial ", "rest"], gate_at=1,
                                                     gate=gate))
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        assert not app.check_action("cancel", ())  # hidden while idle
        await pilot.press(*"go", "enter")
        await provider.request_seen.wait()
        await pilot.pause()
        assert app.check_action("cancel", ())
        await pilot.press("escape")
        assert app.session.running  # one press only warns
        assert "Esc again" in app.query_one("#flash").message  # type: ignore[attr-defined]
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        msg = app.query_one(AssistantMessage)
        assert msg.has_class("-cancelled") and msg.source == "partial "
        assert any(n.kind == "cancelled" for n in app.query(NoticeLine))
        assert provider.chunks_after_cancel == 0
    core = rec.core()
    assert core.index("TurnCancelled") > core.index("TextDelta")
    assert "TurnFinished" not in core
