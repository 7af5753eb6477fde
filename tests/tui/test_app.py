"""Pilot tests of the main flows on a scripted provider, asserting the message sequence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.providers.scripted import ScriptedReply
from tests.tui.harness import Recorder, blocks, drawn_text, make_app
from widgets.status_bar import StatusBar


async def test_typed_question_streams_an_answer(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "**51** is the answer.")
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"17*3?", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [u.text for u in blocks(app, "user")] == ["17*3?"]
        (msg,) = blocks(app, "assistant")
        assert msg.text == "**51** is the answer." and not msg.streaming
        assert "51 is the answer." in drawn_text(app, msg)  # drawn as Markdown: no asterisks
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
        text = "".join(m.text for m in blocks(app, "assistant"))
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
        (block,) = blocks(app, "tool")
        assert block.name == "list_dir" and block.status == "ok"
        assert "alpha.txt" in block.text
        kinds = [b.kind for b in app.conversation.blocks]
        assert kinds.index("tool") < kinds.index("assistant")
        await pilot.press("shift+tab")  # the conversation: pick the tool block, open it
        assert app.conversation.has_focus
        while app.conversation.selected_block() is not block:
            await pilot.press("up")
        await pilot.press("enter")
        assert block.open


async def test_thinking_block_streams_and_folds_when_the_answer_starts(tmp_path: Path) -> None:
    reply = ScriptedReply(chunks=["Answer."], reasoning=["Let me ", "think."])
    app, provider = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.thinking  # ui.show_thinking defaults on
        await pilot.press(*"q", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (block,) = blocks(app, "thinking")
        assert block.text == "Let me think." and not block.open and not block.streaming
        assert "Thought (3 words)" in drawn_text(app, block)
        assert "think." not in drawn_text(app, block)  # folded once the answer started
        assert provider.requests[-1].thinking


async def test_provider_error_shows_an_error_marker(tmp_path: Path) -> None:
    from app.core.providers.base import ProviderError

    app, _ = make_app(tmp_path, ScriptedReply(error=ProviderError("server said no")))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = [n for n in blocks(app, "notice") if n.level == "error"]
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
        (reply,) = blocks(app, "assistant")
        assert reply.text == text
        assert "never closed" in drawn_text(app, reply)


async def test_long_reply_is_drawn_in_pieces_cut_outside_fences(tmp_path: Path) -> None:
    para = "A paragraph of text that goes on for a while. " * 8 + "\n\n"
    fence = "```python\n" + "x = 1\n\n" * 30 + "```\n\n"  # blank lines inside the fence
    text = (para * 10 + fence) * 4
    reply = ScriptedReply(chunks=[text[i:i + 40] for i in range(0, len(text), 40)])
    app, _ = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"x", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (reply,) = blocks(app, "assistant")
        assert reply.text == text
        drawn = drawn_text(app, reply)
        assert drawn.count("x = 1") == 4 * 30  # every code line, each fence whole
        flat = " ".join(drawn.split())  # the paragraphs wrap; their words all come through
        assert flat.count("A paragraph of text that goes on for a while.") == 8 * 40
        assert "```" not in drawn


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
        (msg,) = blocks(app, "assistant")
        assert msg.cancelled and msg.text == "partial "
        assert any(n.level == "cancelled" for n in blocks(app, "notice"))
        assert provider.chunks_after_cancel == 0
    core = rec.core()
    assert core.index("TurnCancelled") > core.index("TextDelta")
    assert "TurnFinished" not in core
