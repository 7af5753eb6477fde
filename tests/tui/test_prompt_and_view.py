"""Huge pastes, the context meter, full scrollback, and replaying a recorded session."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from app.core.agent.events import Usage
from app.core.providers.replay import ReplayProvider, ReplayScript, ReplayTools
from app.core.settings.config import Config
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from app.tui.bridge import CoreEvent
from tests.tui.harness import DEMO_LOG, FIXED_HW, blocks, make_app, screen_lines
from widgets.context_meter import band_for
from widgets.flash import Flash
from widgets.pending_strip import PendingStrip
from widgets.prompt_input import PromptInput

MEGABYTE = ("x" * 99 + "\n") * 10_486  # 1 MB of text, 10,486 lines


async def test_a_huge_paste_is_attached_not_typed_and_not_sent_unannounced(
        tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "fine")
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.post_message(events.Paste(MEGABYTE))
        await pilot.pause()
        assert prompt.value == ""
        strip = app.query_one(PendingStrip)
        assert strip.items and strip.items[0][0] == "paste" and "1.0 MB" in strip.items[0][1]
        await pilot.press(*"summarise this", "enter")
        await pilot.pause()
        # 1 MB does not fit an 8K window: refused with the reason, nothing lost.
        assert provider.requests == []
        assert "Not sent" in app.query_one(Flash).message
        assert prompt.value == "summarise this" and len(app.attachments) == 1
        prompt.value = ""
        await pilot.press("backspace")  # on an empty prompt: drops the paste
        await pilot.pause()
        assert app.attachments == [] and not strip.items


async def test_a_small_multiline_paste_is_sent_with_its_size_shown(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "ok")
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptInput)
        prompt.post_message(events.Paste("line one\nline two\n"))
        await pilot.pause()
        await pilot.press(*"explain", "enter")
        await app.workers.wait_for_complete()
        sent = provider.requests[0].messages[-1].content
        assert sent.startswith("explain\n\n[pasted text: 18 B · 2 lines]")
        assert "line one\nline two" in sent
    single, _ = make_app(tmp_path)
    async with single.run_test(size=(100, 30)) as pilot:
        single.query_one(PromptInput).post_message(events.Paste("one line"))
        await pilot.pause()
        assert single.query_one(PromptInput).value == "one line"  # short pastes are typed


def test_meter_bands() -> None:
    assert [band_for(p) for p in (0, 49.9, 50, 79.9, 80, 94.9, 95, 130)] == [
        "low", "low", "mid", "mid", "high", "high", "full", "full"]


async def test_meter_follows_usage_and_streamed_estimates(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "a" * 400, context_window=1000)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        meter = app.meter
        assert meter.limit == 1000 and meter.used == app.session.context_used > 0
        app.post_message(CoreEvent(Usage("t", 700, 150, 850, 1000)))
        await pilot.pause()
        assert meter.band == "high" and meter.has_class("-high")
        assert app.status_bar.context == "85%"


async def test_the_whole_conversation_stays_scrollable(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, *[f"answer {i}" for i in range(40)])
    async with app.run_test(size=(100, 30)) as pilot:
        conv = app.conversation
        for i in range(40):
            await pilot.press(*f"q{i}", "enter")
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert [u.text for u in blocks(app, "user")] == [f"q{i}" for i in range(40)]
        assert conv.follow and any("answer 39" in line for line in screen_lines(app))
        await pilot.press("ctrl+home")  # from the prompt, no focus change needed
        assert conv.scroll_y == 0 and not conv.follow
        assert any("q0" in line for line in screen_lines(app))
        assert not any("hidden" in line or "restore" in line for line in screen_lines(app))


async def test_replay_of_the_demo_log_drives_the_same_view() -> None:
    script = ReplayScript.load(DEMO_LOG)
    provider = ReplayProvider(script)
    factory = SessionFactory(Config(), provider, tools=lambda: ReplayTools(script), features=())
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False, replay=provider)
    async with app.run_test(size=(100, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        users = [u.text for u in app.conversation.blocks if u.kind in ("user", "steer")]
        assert users == ["Which files are in this folder?", "How do I reverse a string in Python?",
                         "Read notes.txt", "Only the first line, please.",
                         "Write a long essay on text editors."]
        assert [b.name for b in blocks(app, "tool")] == ["list_dir", "read_file"]
        assert blocks(app, "thinking")[0].text.startswith("The user wants")
        replies = "".join(m.text for m in blocks(app, "assistant"))
        assert "```python" in replies and "| approach |" in replies
        assert any(n.level == "cancelled" for n in blocks(app, "notice"))


async def test_no_colour_terminal_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, _ = make_app(tmp_path, "plain **answer**")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert blocks(app, "assistant")[0].text == "plain **answer**"
        await pilot.press("f1")  # every screen is reachable by keyboard alone (no mouse needed)
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
