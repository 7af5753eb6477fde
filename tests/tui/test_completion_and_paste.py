"""Tab completion in the prompt (commands, arguments, @paths) and pastes with any line ends."""

from __future__ import annotations

from pathlib import Path

from textual import events

from app.tui.completion import common_prefix, complete
from app.tui.prompt_flow import describe_paste
from tests.tui.harness import make_app


async def test_tab_completes_commands_and_cycles_through_candidates(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.prompt
        await pilot.press(*"/he", "tab")
        assert prompt.value == "/help " and prompt.cursor_position == 6
        prompt.value = ""
        await pilot.press(*"/th", "tab")  # /theme and /think: nothing to add, both shown
        assert prompt.value == "/th"
        assert "/theme" in app.flash.message and "/think" in app.flash.message
        await pilot.press("tab")
        assert prompt.value == "/theme"
        await pilot.press("tab")
        assert prompt.value == "/think"
        await pilot.press("tab")
        assert prompt.value == "/theme"
        assert provider.requests == []  # Tab never sends


async def test_tab_completes_arguments(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.prompt
        await pilot.press(*"/theme nanobot-l", "tab")
        assert prompt.value == "/theme nanobot-light"
        prompt.value = ""
        await pilot.press(*"/think of", "tab")
        assert prompt.value == "/think off"
        prompt.value = ""
        await pilot.press(*"/model qwen", "tab")
        assert prompt.value.startswith("/model qwen2.5-coder")


async def test_tab_completes_paths_after_at(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("x")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.prompt
        await pilot.press(*"read @RE", "tab")
        assert prompt.value == "read @README.md "
        await pilot.press(*"and @s", "tab")
        assert prompt.value == "read @README.md and @src/"  # a folder: Tab can go on inside
        await pilot.press("tab")
        assert prompt.value == "read @README.md and @src/main.py "
        assert complete(app, "@.h", 3) is not None  # hidden files when asked for
        assert complete(app, "@../", 4) is None  # never outside the workspace


async def test_tab_on_an_idle_prompt_with_plain_text_does_not_send(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "answer")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hello", "tab")
        await pilot.pause()
        assert app.prompt.value == "hello" and provider.requests == []
        assert "Enter sends" in app.flash.message


def test_common_prefix() -> None:
    assert common_prefix(["/theme", "/think"]) == "/th"
    assert common_prefix(["abc"]) == "abc" and common_prefix([]) == ""


async def test_pastes_with_cr_crlf_and_lf_line_ends_keep_every_line(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.prompt
        for text in ("one\rtwo\rthree\r", "one\r\ntwo\r\nthree\r\n", "one\ntwo\nthree\n"):
            prompt.post_message(events.Paste(text))
            await pilot.pause()
            assert app.attachments[-1] == "one\ntwo\nthree\n"
            assert prompt.value == ""
        assert app.strip.items[-1][1].endswith("3 lines")
        prompt.post_message(events.Paste("single line\r\n"))  # one line with a CRLF: typed
        await pilot.pause()
        assert prompt.value == "single line" and len(app.attachments) == 3


def test_paste_line_counts() -> None:
    assert describe_paste("a\nb\nc\n").endswith("3 lines")
    assert describe_paste("a\nb\nc").endswith("3 lines")
    assert describe_paste("one").endswith("1 line")
