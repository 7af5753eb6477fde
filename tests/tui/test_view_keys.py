"""Pilot tests of the conversation view's keys: scrolling from the prompt, the new-messages hint,
block focus, copying, steering mid-answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from app.core.providers.scripted import ScriptedReply
from app.tui.app import NanobotApp
from app.tui.transcript import blocks_from_events
from bench.stream import history_events
from tests.tui.harness import FIXED_HW, blocks, drawn_text, make_app, screen_lines, scripted_factory


async def until(pilot: object, check: Callable[[], bool], what: str, tries: int = 200) -> None:
    """Await a condition the app reaches asynchronously (bounded, never a bare sleep)."""
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError(f"never happened: {what}")


def history_app(tmp_path: Path, blocks_n: int, *replies: ScriptedReply | str) -> NanobotApp:
    factory, _ = scripted_factory(tmp_path, *replies)
    return NanobotApp(factory, hardware=FIXED_HW, blink=False,
                      resumed_events=history_events(blocks_n))


async def test_page_keys_scroll_from_the_prompt_and_the_hint_shows_new_text(
        tmp_path: Path) -> None:
    gate = asyncio.Event()
    reply = ScriptedReply(chunks=["The first words. ", "Then much more text arrives."],
                          gate_at=1, gate=gate)
    app = history_app(tmp_path, 400, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        conv = app.conversation
        assert len(conv.blocks) == 400 and conv.follow
        await pilot.press(*"go", "enter")
        await until(pilot, lambda: any("The first words" in ln for ln in screen_lines(app)),
                    "the reply starts on screen")
        end = conv.scroll_y
        await pilot.press("pageup")
        assert app.prompt.has_focus  # scrolled without leaving the prompt
        assert conv.scroll_y < end and not conv.follow
        await pilot.press("pageup", "pagedown")
        assert conv.scroll_y == end - (conv.scrollable_content_region.height - 1)
        gate.set()  # more text arrives below the screen
        await app.workers.wait_for_complete()
        await until(pilot, lambda: conv.unseen, "new text marked as unseen")
        assert "↓ new messages" in screen_lines(app)[-1]
        await pilot.press("ctrl+end")
        assert conv.follow and not conv.unseen and conv.scroll_y == conv.max_scroll_y
        assert any("much more text" in ln for ln in screen_lines(app))
        assert not any("new messages" in ln for ln in screen_lines(app))
        await pilot.press("ctrl+home")
        assert conv.scroll_y == 0
        assert any("Question 0" in ln for ln in screen_lines(app))  # the very first block


async def test_the_view_follows_while_at_the_bottom_and_stays_put_when_scrolled_up(
        tmp_path: Path) -> None:
    app = history_app(tmp_path, 60, *[f"answer {i}" for i in range(3)])
    async with app.run_test(size=(100, 30)) as pilot:
        conv = app.conversation
        await pilot.press(*"q0", "enter")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: any("answer 0" in ln for ln in screen_lines(app)),
                    "the answer is followed")
        await pilot.press("pageup")
        before = screen_lines(app)
        await pilot.press(*"q1", "enter")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: conv.unseen, "the answer is marked unseen")
        assert screen_lines(app)[:-1] == before[:-1]  # nothing moved under the reader


async def test_shift_tab_picks_blocks_enter_opens_c_copies_typing_returns(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    listing = ScriptedReply.call("list_dir", path=".")
    app, _ = make_app(tmp_path, listing, "Here is **a.txt**.")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"ls", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        conv = app.conversation
        await pilot.press("shift+tab")
        assert conv.has_focus
        assert conv.selected_block() is blocks(app, "assistant")[-1]
        await pilot.press("c")
        assert app.clipboard == "Here is **a.txt**."
        await pilot.press("up")
        tool = conv.selected_block()
        assert tool is not None and tool.kind == "tool" and not tool.open
        await pilot.press("enter")
        assert tool.open
        await pilot.press("enter")
        assert not tool.open
        await pilot.press("h", "i")  # typing goes back to the prompt, nothing is lost
        assert app.prompt.has_focus and app.prompt.value == "hi"
        await pilot.press("shift+tab", "escape")
        assert app.prompt.has_focus


async def test_a_click_opens_a_tool_block(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    app, _ = make_app(tmp_path, ScriptedReply.call("list_dir", path="."), "done")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"ls", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (tool,) = blocks(app, "tool")
        row = next(i for i, ln in enumerate(screen_lines(app)) if "list_dir" in ln)
        await pilot.click(app.conversation, offset=(6, row))
        assert tool.open


async def test_a_mouse_drag_selects_text_and_ctrl_c_copies_it(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "alpha beta gamma\n\ndelta epsilon")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"q", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        conv = app.conversation
        lines = screen_lines(app)
        first = next(i for i, ln in enumerate(lines) if "alpha" in ln)
        last = next(i for i, ln in enumerate(lines) if "delta" in ln)
        start = lines[first].index("beta") + 1  # + the view's left padding
        end = lines[last].index("delta") + len("delta") + 1
        # Textual's own selection: it reads where a drag starts from the lines' offsets.
        await pilot.mouse_down(conv, offset=(start, first))
        await pilot.hover(conv, offset=(end, last))
        await pilot.mouse_up(conv, offset=(end, last))
        await pilot.pause()
        assert app.screen.get_selected_text() == "beta gamma\n\ndelta"
        await pilot.press("ctrl+c")
        assert app.clipboard == "beta gamma\n\ndelta"
        assert app.session.history  # Ctrl+C copied; it did not cancel or quit anything
        assert not app.screen.selections


async def test_copy_commands(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "Use this:\n\n```python\nprint('hi')\n```\n\nDone.")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/copy", "enter")
        assert "Nothing to copy" in app.flash.message
        await pilot.press(*"code?", "enter")
        await app.workers.wait_for_complete()
        await pilot.press(*"/copy code", "enter")
        assert app.clipboard == "print('hi')"
        await pilot.press(*"/copy", "enter")
        assert app.clipboard.startswith("Use this:") and app.clipboard.endswith("Done.")


async def test_a_steer_mid_answer_takes_effect_at_once(tmp_path: Path) -> None:
    long = ScriptedReply(chunks=[f"word{i} " for i in range(400)])
    app, provider = make_app(tmp_path, long, "Short.")
    provider.delay = 0.01
    produced: list[int] = []  # words on screen when the steer reached the core
    inject = app.session.inject

    def counting_inject(text: str) -> bool:
        produced.append(len("".join(b.text for b in blocks(app, "assistant")).split()))
        return inject(text)

    app.session.inject = counting_inject  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"write a lot", "enter")
        await until(pilot, lambda: "word2" in "".join(b.text for b in blocks(app, "assistant")),
                    "the answer is streaming")
        await pilot.press(*"be brief", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        first, second = blocks(app, "assistant")
        # Cut at the next chunk: at most the words not drawn yet (one 100 ms batch) and one more,
        # not the 400 of the whole answer.
        assert first.ended == "steered" and produced
        assert len(first.text.split()) <= produced[0] + 15
        assert [b.kind for b in app.conversation.blocks[-3:]] == ["assistant", "steer",
                                                                  "assistant"]
        assert blocks(app, "steer")[0].text == "be brief" and second.text == "Short."
        assert "stopped here to take your steer" in "\n".join(screen_lines(app))
        assert len(app.pending) == 0 and not app.busy


async def test_resume_shows_a_long_session_whole(tmp_path: Path) -> None:
    app = history_app(tmp_path, 2000)
    async with app.run_test(size=(100, 30)) as pilot:
        conv = app.conversation
        assert len(conv.blocks) == 2000
        assert [b.kind for b in conv.blocks] == [
            b.kind for b in blocks_from_events(history_events(2000))]
        assert any("Section 1999" in ln for ln in screen_lines(app))
        drawn = sum(conv._exact)
        assert drawn < 20  # only what is on screen was drawn
        await pilot.press("ctrl+home")
        assert any("Question 0" in ln for ln in screen_lines(app))


async def test_control_characters_in_a_tool_result_are_drawn_as_escapes(tmp_path: Path) -> None:
    (tmp_path / "evil.txt").write_text("before\x1b]0;owned\x07\x1b[2Jafter\n")
    app, _ = make_app(tmp_path, ScriptedReply.call("read_file", path="evil.txt"), "done")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"read it", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (tool,) = blocks(app, "tool")
        assert "\x1b" in tool.text  # the record keeps every byte...
        shown = drawn_text(app, tool)
        assert "\x1b" not in shown and "\\x1b[2J" in shown  # ...the screen gets escapes
