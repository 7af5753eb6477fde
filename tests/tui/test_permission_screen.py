"""The permission modal driven through the real app and a scripted model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.events import ScreenResume
from textual.message import Message
from textual.widgets import Button

from app.core.agent.events import Event, ToolCallFinished
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.defaults import builtin_tools
from app.tui.app import NanobotApp
from app.tui.screens.permission import PermissionScreen
from tests.tui.harness import make_factory


def make_app(tmp_path: Path, *replies: ScriptedReply | str
             ) -> tuple[NanobotApp, ScriptedProvider, list[ToolCallFinished]]:
    provider = ScriptedProvider(replies)
    # The default policy: exec and write_file ask.
    app = NanobotApp(make_factory(tmp_path, provider, tools=builtin_tools))
    finished: list[ToolCallFinished] = []

    def on(ev: Event) -> None:
        if isinstance(ev, ToolCallFinished):
            finished.append(ev)

    app.session.add_listener(on)
    return app, provider, finished


class ModalWatch:
    """A message hook that sets an event when the permission modal becomes the active screen."""

    def __init__(self, app: NanobotApp) -> None:
        self.app = app
        self.shown = asyncio.Event()

    def __call__(self, message: Message) -> None:
        if isinstance(message, ScreenResume) and isinstance(self.app.screen, PermissionScreen):
            self.shown.set()

    async def wait(self) -> PermissionScreen:
        await self.shown.wait()
        self.shown.clear()
        screen = self.app.screen
        assert isinstance(screen, PermissionScreen)
        return screen


async def test_allow_once_runs_the_command(tmp_path: Path) -> None:
    app, _, finished = make_app(tmp_path, ScriptedReply.call("exec", command="echo from-modal"),
                                "done")
    watch = ModalWatch(app)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        await pilot.press(*"go", "enter")
        modal = await watch.wait()
        assert modal.request.preview == "echo from-modal"
        assert app.focused is not None and app.focused.id == "deny"  # Enter must not approve
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert [f.content for f in finished] == ["from-modal"]


async def test_allow_for_session_asks_once(tmp_path: Path) -> None:
    app, _, finished = make_app(tmp_path, ScriptedReply.call("exec", command="pwd"),
                                ScriptedReply.call("exec", command="pwd -L"), "done")
    watch = ModalWatch(app)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        await pilot.press(*"go", "enter")
        modal = await watch.wait()
        # The button names what it allows: the command's words, not "every pwd-like thing".
        assert str(modal.query_one("#allow_session", Button).label) == \
            "Allow `pwd` this session (a)"
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(finished) == 2 and not any(f.is_error for f in finished)
    assert finished[0].content == finished[1].content and finished[0].content.endswith(tmp_path.name)
    assert app.session.permissions.session_allowed == {"exec\x00pwd"}


async def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    app, _, _ = make_app(tmp_path, ScriptedReply.call("exec", command="echo \x1b]0;owned\x07 ok"),
                         "done")
    watch = ModalWatch(app)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        await pilot.press(*"go", "enter")
        modal = await watch.wait()
        assert "\x1b" not in modal.request.preview and "\\x1b]0;owned\\x07" in modal.request.preview
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_deny_by_key_and_by_button(tmp_path: Path) -> None:
    app, _, finished = make_app(
        tmp_path, ScriptedReply.call("write_file", path="a.txt", content="x"),
        ScriptedReply.call("write_file", path="b.txt", content="y"), "ok")
    watch = ModalWatch(app)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        await pilot.press(*"go", "enter")
        await watch.wait()
        await pilot.press("n")
        await watch.wait()
        await pilot.click("#deny")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert all(f.is_error and "denied" in f.content for f in finished) and len(finished) == 2
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "b.txt").exists()


async def test_cancelling_the_turn_closes_the_modal(tmp_path: Path) -> None:
    app, _, finished = make_app(tmp_path, ScriptedReply.call("exec", command="touch x"), "never")
    watch = ModalWatch(app)
    async with app.run_test(size=(100, 30), message_hook=watch) as pilot:
        await pilot.press(*"go", "enter")
        await watch.wait()
        assert app.session.cancel()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, PermissionScreen)
    assert not (tmp_path / "x").exists()
    assert finished and finished[0].is_error
