"""Slash commands: they run in the app and never reach the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings.config import load_config
from app.core.settings.paths import get_paths
from app.tui import slash
from tests.tui.harness import blocks, make_app
from widgets.flash import Flash


async def test_unknown_command_suggests_and_never_reaches_the_model(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "should not be used")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/thnik on", "enter")
        await pilot.pause()
        message = app.query_one(Flash).message
        assert "Unknown command /thnik" in message and "/think" in message
        assert provider.requests == [] and not blocks(app, "user")


async def test_double_slash_sends_a_literal_slash(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "ok")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"//etc/hosts", "enter")
        await app.workers.wait_for_complete()
        assert provider.requests and provider.requests[0].messages[-1].content == "//etc/hosts"


@pytest.mark.parametrize(("arg", "on", "budget"), [("on", True, None), ("off", False, None),
                                                   ("4096", True, 4096), ("10", True, 1024),
                                                   ("999999", True, 128_000)])
def test_parse_think(arg: str, on: bool, budget: int | None) -> None:
    got_on, got_budget, message = slash.parse_think(arg, current=False)
    assert (got_on, got_budget) == (on, budget)
    assert ("clamped" in message) == (arg in ("10", "999999"))


def test_parse_think_rejects_junk() -> None:
    with pytest.raises(ValueError, match="on, off or a token budget"):
        slash.parse_think("lots", current=False)


async def test_think_with_a_budget_reaches_the_request(tmp_path: Path) -> None:
    app, provider = make_app(tmp_path, "a", "b")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/think 2048", "enter")
        await pilot.press(*"q", "enter")
        await app.workers.wait_for_complete()
        req = provider.requests[-1]
        assert req.thinking and req.thinking_budget == 2048
        assert app.status_bar.thinking.startswith("on (2,048)")
        await pilot.press(*"/think off", "enter", *"r", "enter")
        await app.workers.wait_for_complete()
        assert provider.requests[-1].thinking is False


async def test_theme_switches_and_persists_in_the_config(tmp_path: Path) -> None:
    cfg = get_paths().config_file
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("# mine\n[agent]\nmax_tokens = 512  # keep\n")
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/theme nanobot-light", "enter")
        await pilot.pause()
        assert app.theme == "nanobot-light"
        await pilot.press(*"/theme no-such", "enter")
        await pilot.pause()
        assert "Unknown theme" in app.query_one(Flash).message and app.theme == "nanobot-light"
    text = cfg.read_text()
    assert "# mine" in text and "max_tokens = 512  # keep" in text
    loaded = load_config(cfg)
    assert loaded.ui.theme == "nanobot-light" and loaded.agent.max_tokens == 512


async def test_new_starts_a_fresh_session(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "one", persist=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        old = app.session
        await pilot.press(*"/new", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session is not old and app.session.history == []
        assert app.session.store is not None and old.store is not None
        assert app.session.store.path != old.store.path
        assert not blocks(app, "user")


async def test_help_and_clear_and_sessions_commands(tmp_path: Path) -> None:
    from app.tui.screens.help import HelpScreen
    from app.tui.screens.sessions import SessionsScreen

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/help", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press(*"/sessions", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("escape")
        await pilot.press(*"/clear", "enter")
        await pilot.pause()
        assert "view cleared" in app.conversation.blocks[-1].text


def test_each_name_is_registered_once() -> None:
    # /model used to be registered twice (the last import won) and its short names were
    # unreachable: now every name and alias belongs to one command, and a clash is an error.
    model = slash.lookup("model")
    assert model is not None and slash.lookup("m") is model and "/m" in model.title
    assert slash.lookup("dash") is slash.lookup("dashboard") is not None
    with pytest.raises(ValueError, match="already registered"):
        slash.register_slash(slash.SlashCommand("mine", "", "a clash", model.run, aliases=("m",)))
    assert slash.lookup("mine") is None
