"""The app draws first and builds its session behind the first frame (app/tui/boot.py)."""

from __future__ import annotations

import threading
from pathlib import Path

from app.tui.app import NanobotApp
from app.tui.boot import Booted, BootError
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks, scripted_factory


async def test_keys_typed_while_starting_are_sent_once_the_session_is_there(
        tmp_path: Path) -> None:
    factory, provider = scripted_factory(tmp_path, "first answer", "second answer")
    release = threading.Event()

    def boot() -> Booted:  # runs in the boot thread: holds until the test lets it go
        release.wait(30)
        return Booted(factory, notices=["a notice from the boot"])

    app = NanobotApp(boot=boot, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.attached and app.prompt.has_focus
        assert app.status_bar.state == "starting"
        await pilot.press(*"hello", "enter", *"/theme", "enter", *"and then", "enter")
        assert app.prompt.value == "" and [i.text for i in app.pending] == [
            "hello", "/theme", "and then"]
        assert provider.requests == []
        release.set()
        await until(pilot, lambda: app.attached, what="the session")
        await until(pilot, lambda: [b.text for b in blocks(app, "assistant")] == [
            "first answer", "second answer"], what="both answers, in order")
        said = [b.text for b in app.conversation.blocks if b.kind == "user"]
        assert said == ["hello", "and then"]  # the command ran, it was not sent to the model
        notices = [b.text for b in blocks(app, "notice")]
        assert any(n.startswith("theme: ") for n in notices)
        assert any("a notice from the boot" in n for n in notices)


async def test_a_boot_error_ends_the_app_with_its_message(tmp_path: Path) -> None:
    def boot() -> Booted:
        raise BootError("config error: [agent] max_tokens must be positive")

    app = NanobotApp(boot=boot, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.return_code is not None, what="the app to end")
    assert app.return_code == 2
