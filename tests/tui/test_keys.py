"""Pilot tests for the keys: Esc Esc, Ctrl+C, Ctrl+T, F1, F2, Ctrl+P, Ctrl+L and the keymap."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.binding import Binding
from textual.command import CommandPalette

from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import Config
from app.tui import actions
from app.tui.screens.help import HelpScreen
from tests.pilot_wait import until
from tests.tui.harness import Recorder, blocks, drawn_text, make_app
from widgets.flash import Flash
from widgets.status_bar import StatusBar


def gated(*chunks: str, at: int = 1) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=list(chunks), gate_at=at, gate=gate), gate


async def test_escape_is_hidden_and_harmless_when_idle(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        shown = {b.binding.action for b in app.screen.active_bindings.values()
                 if b.enabled and b.binding.show}
        assert "cancel" not in shown
        await pilot.press("escape", "escape")
        assert not app.query_one(Flash).message


async def test_escape_window_expires(tmp_path: Path) -> None:
    reply, _gate = gated("a ", "b")
    app, provider = make_app(tmp_path, reply)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"go", "enter")
        await provider.request_seen.wait()
        await pilot.press("escape")
        app._esc_at = time.monotonic() - 5  # the first press was long ago (no sleeping in tests)
        await pilot.press("escape")
        assert app.session.running, "a press outside the 2 s window only warns again"
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert not app.session.running and not app.busy


async def test_ctrl_c_cancels_a_running_turn(tmp_path: Path) -> None:
    reply, _ = gated("partial ", "rest")
    app, provider = make_app(tmp_path, reply)
    rec = Recorder()
    async with app.run_test(size=(100, 30), message_hook=rec) as pilot:
        await pilot.press(*"go", "enter")
        await provider.request_seen.wait()
        await pilot.press("ctrl+c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.busy
    assert "TurnCancelled" in rec.names


async def test_double_ctrl_c_on_an_idle_prompt_quits(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+c")
        assert "again to quit" in app.query_one(Flash).message
        assert app.return_code is None
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_ctrl_t_changes_the_next_request_and_the_view(tmp_path: Path) -> None:
    replies = [ScriptedReply(chunks=["one"], reasoning=["hmm"]), "two"]
    app, provider = make_app(tmp_path, *replies)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"a", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (block,) = blocks(app, "thinking")
        conv = app.conversation
        assert "Thought" in drawn_text(app, block) and provider.requests[-1].thinking
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not app.thinking and not app.session.thinking
        assert not conv.show_thinking
        assert drawn_text(app, block) == ""  # not drawn, still there
        assert block in conv.blocks
        assert app.query_one(StatusBar).thinking == "off"
        await pilot.press(*"b", "enter")
        await app.workers.wait_for_complete()
        assert provider.requests[-1].thinking is False
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Thought" in drawn_text(app, block)
        assert app.query_one(StatusBar).thinking.startswith("on")


async def test_keymap_remaps_an_action_by_id(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, config=Config(keymap={"toggle_thinking": "ctrl+y",
                                                      "no_such_action": "f9"}))
    async with app.run_test(size=(100, 30)) as pilot:
        before = app.thinking
        await pilot.press("ctrl+t")
        assert app.thinking == before
        await pilot.press("ctrl+y")
        assert app.thinking != before
        notes = [b for b in app.conversation.blocks if "no_such_action" in b.text]
        assert notes, "an unknown keymap id is reported"


async def test_f1_help_lists_every_registered_action(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, config=Config(keymap={"toggle_thinking": "ctrl+y"}))
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from app.tui.screens.help import help_table

        table = help_table(app.keymap)
        ids_in_help = "".join(str(c) for col in table.columns for c in col._cells)
        for spec in actions.actions():
            assert spec.id in ids_in_help
        assert "ctrl+y" in ids_in_help and "/think" in ids_in_help
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_ctrl_p_opens_the_palette_with_our_providers(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"nanobot-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "nanobot-light"


async def test_ctrl_l_clears_the_view_but_not_the_session(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "hello")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hi", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert not blocks(app, "user")
        assert len(app.session.history) == 2


async def test_f2_toggles_the_side_column_and_it_hides_below_80x24(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        side = app.query_one("#side")
        assert side.display
        await pilot.press("f2")
        await pilot.pause()
        assert not side.display
        await pilot.press("f2")
        await pilot.pause()
        assert side.display
    small, _ = make_app(tmp_path)
    async with small.run_test(size=(70, 20)) as pilot:
        side = small.query_one("#side")
        assert not side.display
        await pilot.press("f2")
        await pilot.pause()
        assert side.display  # the user asked for it


async def test_prompt_keys_come_from_the_registry_and_the_keymap_remaps_them(
        tmp_path: Path) -> None:
    # The prompt widget declares no keys of its own; the app binds the registry's prompt actions.
    from widgets.prompt_input import PromptInput

    assert "BINDINGS" not in vars(PromptInput)
    app, _ = make_app(tmp_path, config=Config(keymap={"queue": "ctrl+k"}))
    async with app.run_test(size=(100, 30)) as pilot:
        bound = {b.id for b in type(app.prompt).BINDINGS if isinstance(b, Binding)}
        assert bound == {a.id for a in actions.actions("prompt")}
        reply, gate = gated("a ", "b")
        app.session.provider.enqueue(reply)  # type: ignore[attr-defined]
        await pilot.press(*"go", "enter")
        await until(pilot, lambda: app.busy, what="the turn")
        await pilot.press(*"later", "ctrl+k")  # Tab, remapped
        await until(pilot, lambda: [i.text for i in app.pending] == ["later"], what="the queue")
        gate.set()
        await app.workers.wait_for_complete()


async def test_busy_and_the_turn_state_drive_the_prompt_and_the_status_bar(
        tmp_path: Path) -> None:
    from app.tui.turn_state import TurnState

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.query_one(StatusBar)
        app.busy = True
        await until(pilot, lambda: app.prompt.has_class("-busy"), what="the busy prompt")
        app.turn_state = TurnState("tool", "Reading x.py")
        await until(pilot, lambda: (bar.state, bar.detail) == ("tool", "Reading x.py"),
                    what="the status bar")
        app.busy = False  # the turn is over: the state goes back to idle with it
        await until(pilot, lambda: not app.prompt.has_class("-busy") and bar.state == "idle",
                    what="idle")
        assert app.turn_state == TurnState()


async def test_after_f2_a_resize_across_80x24_hands_the_side_column_back_to_the_rule(
        tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        side = app.query_one("#side")
        await pilot.press("f2", "f2")  # off, then on again: the user's choice at this size
        await pilot.pause()
        assert side.display and app.side_mode == "on"
        await pilot.resize_terminal(70, 20)
        await until(pilot, lambda: not side.display, what="the side column to hide")
        assert app.side_mode == "auto"
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: side.display, what="the side column to come back")


async def test_the_cancel_key_leaves_the_footer_with_the_end_of_the_turn(tmp_path: Path) -> None:
    reply, gate = gated("a", "b")
    app, provider = make_app(tmp_path, reply)
    states: list[str] = []
    start = app.flow.start_turn

    def start_turn(text: str) -> None:  # the status as drawn in the frame of the Enter
        start(text)
        states.append(app.status_bar.state)

    app.flow.start_turn = start_turn  # type: ignore[method-assign]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"go", "enter")
        assert states == ["waiting"]  # before the core's first event arrives
        await provider.request_seen.wait()
        assert app.check_action("cancel", ())
        seen: list[bool] = []
        original = app.fold.apply

        def apply(ev: object) -> None:  # what the footer would show right after the last event
            original(ev)  # type: ignore[arg-type]
            if type(ev).__name__ == "TurnFinished":
                app.call_later(lambda: seen.append(bool(app.check_action("cancel", ()))))

        app.fold.apply = apply  # type: ignore[method-assign]
        gate.set()
        await app.workers.wait_for_complete()
        await until(pilot, lambda: bool(seen), what="the turn's end")
        assert seen == [False] and not app.check_action("cancel", ())


async def test_f6_footer_has_no_stray_palette_entry(tmp_path: Path) -> None:
    from textual.widgets import Footer

    app, _ = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f6")
        await until(pilot, lambda: type(app.screen).__name__ == "ProcessesScreen",
                    what="the processes screen")
        assert not app.screen.query_one(Footer).show_command_palette
