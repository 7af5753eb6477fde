"""``/memory`` with words, ``/private`` on and off, and the memory screen's other keys (Pilot):
edits and deletes by number, bad input answered with a message that loses nothing, the briefing
rebuilt in the background on request and shown, Esc leaving an edit unsaved; a branch result block
coming back when the session is resumed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.memory.hook import MemoryHook, memory_of
from app.core.memory.model import MemoryModel
from app.core.providers.scripted import ScriptedProvider
from app.core.settings.config import Config, MemoryConfig
from app.core.store.session_store import read_session
from app.core.swarm.branch import start_branch
from app.runtime.build import build_runtime
from app.tui.app import NanobotApp
from app.tui.memory_commands import USAGE
from app.tui.screens.memory import MemoryScreen
from app.tui.transcript import blocks_from_events
from tests.core.swarm.branch_helpers import make_root
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks

BRIEF = ("### Active context\nThe user is writing release notes.\n### Key facts\n"
         "- Releases are cut on Mondays.\n### Recent patterns\nnone")


def app_for(tmp_path: Path, provider: ScriptedProvider) -> tuple[NanobotApp, MemoryHook]:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    cfg = Config(memory=MemoryConfig(auto_recall=0))
    rt = build_runtime(provider=provider, workspace=str(ws), persist=True, config=cfg)
    app = NanobotApp(rt.factory, config=rt.config, hardware=FIXED_HW, blink=False)
    hook = memory_of(app.session)
    assert hook is not None
    return app, hook


def notices(app: NanobotApp) -> list[str]:
    return [n.text for n in blocks(app, "notice")]


def said(app: NanobotApp, text: str) -> bool:
    return any(text in n for n in notices(app))


async def test_memory_edit_and_delete_by_number_and_bad_input_loses_nothing(
        tmp_path: Path) -> None:
    app, hook = app_for(tmp_path, ScriptedProvider([]))
    ws = hook.workspace()
    tea = hook.memory.remember("The user likes green tea", workspace=ws, user=True).fact
    make = hook.memory.remember("Builds run with make ci", workspace=ws).fact
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*f"/memory edit {make.id} Builds run with make check", "enter")
        await until(pilot, lambda: said(app, f"Edited #{make.id}: Builds run with make check"),
                    what="edit answer")
        assert hook.memory.facts.get(make.id).text == "Builds run with make check"  # type: ignore[union-attr]
        # Not a number, an unknown number, an unknown verb: a message each, nothing changed.
        await pilot.press(*"/memory edit tea Builds are gone", "enter")
        await until(pilot, lambda: said(app, "memory: 'tea' is not a fact number"),
                    what="bad number")
        await pilot.press(*"/memory delete 999", "enter")
        await until(pilot, lambda: sum(n.startswith("memory: ") for n in notices(app)) == 2,
                    what="unknown fact")
        await pilot.press(*"/memory frobnicate", "enter")
        await until(pilot, lambda: said(app, USAGE), what="usage")
        assert sorted(f.text for f in hook.memory.facts.all()) == [
            "Builds run with make check", "The user likes green tea"]
        await pilot.press(*f"/memory delete {tea.id}", "enter")
        await until(pilot, lambda: said(app, f"Deleted #{tea.id}: The user likes green tea"),
                    what="delete answer")
        assert [f.text for f in hook.memory.facts.all()] == ["Builds run with make check"]


async def test_memory_rebuild_builds_the_briefing_in_the_background_and_briefing_shows_it(
        tmp_path: Path) -> None:
    app, hook = app_for(tmp_path, ScriptedProvider([]))
    assert hook.bulletin is not None
    model = ScriptedProvider([BRIEF])
    hook.bulletin.model = MemoryModel(lambda: model, local=False)
    hook.memory.remember("Releases are cut on Mondays", workspace=hook.workspace())
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*"/memory briefing", "enter")
        await until(pilot, lambda: said(app, "memory briefing: none yet"), what="none yet")
        attempt = hook.bulletin.next_attempt()
        await pilot.press(*"/memory rebuild", "enter")
        await until(pilot, lambda: said(app, "Rebuilding the memory briefing"), what="rebuild")
        await attempt
        assert hook.bulletin.text == BRIEF, hook.bulletin.last_error
        assert "Releases are cut on Mondays" in model.requests[0].messages[-1].content
        await pilot.press(*"/memory briefing", "enter")
        await until(pilot, lambda: said(app, "The user is writing release notes."),
                    what="briefing shown")


async def test_memory_screen_b_shows_the_briefing_and_escape_drops_an_edit(
        tmp_path: Path) -> None:
    app, hook = app_for(tmp_path, ScriptedProvider([]))
    assert hook.bulletin is not None
    hook.bulletin.text = BRIEF
    fact = hook.memory.remember("Builds run with make ci", workspace=hook.workspace()).fact
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*"/memory", "enter")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen), what="memory screen")
        screen = app.screen
        detail = screen.query_one("#memory-detail")
        await pilot.press("b")
        await until(pilot, lambda: "The user is writing release notes." in str(detail.render()),
                    what="briefing in the detail")
        edit = screen.query_one("#memory-edit")
        await pilot.press("e")
        await until(pilot, lambda: edit.has_class("-editing") and edit.has_focus, what="editing")
        await pilot.press("ctrl+a", "ctrl+k", *"something else", "escape")
        await until(pilot, lambda: not edit.has_class("-editing"), what="edit dropped")
        assert app.screen is screen  # the first Esc leaves the edit, not the screen
        assert hook.memory.facts.get(fact.id).text == "Builds run with make ci"  # type: ignore[union-attr]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not screen, what="screen closed")


async def test_private_on_then_off_and_a_bad_argument(tmp_path: Path) -> None:
    provider = ScriptedProvider(["Noted."])
    app, hook = app_for(tmp_path, provider)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/private on", "enter")
        await until(pilot, lambda: said(app, "this session is private"), what="private")
        assert hook.private
        await pilot.press(*"/private maybe", "enter")
        await until(pilot, lambda: "/private takes on or off" in str(app.flash.render()),
                    what="bad argument")
        assert hook.private
        await pilot.press(*"/private off", "enter")
        await until(pilot, lambda: said(app, "no longer private"), what="not private")
        assert not hook.private
        # What is said now is indexed as a past session again.
        await pilot.press(*"the release is on Monday", "enter")
        await until(pilot, lambda: len(provider.requests) == 1 and not app.session.running,
                    what="turn")
        await until(pilot, lambda: hook.memory.past.count() > 0, what="turn indexed")


async def test_a_branch_result_block_comes_back_on_resume(tmp_path: Path) -> None:
    session, provider, swarm = make_root(tmp_path)
    provider.root.enqueue("We use Postgres 16.")
    await session.run_turn("Which database do we use?")
    provider.branch.enqueue("Postgres 16 supports MERGE; no upgrade needed.")
    w = start_branch(swarm, "Do we need to upgrade for MERGE?")
    await asyncio.wait_for(swarm.wait([w.id]), 30)
    assert session.store is not None
    resumed = [b for b in blocks_from_events(read_session(session.store.path).events)
               if b.kind == "branch"]
    assert len(resumed) == 1
    (block,) = resumed
    assert (block.label, block.status) == ("Do we need to upgrade for MERGE?", "done")
    assert block.text == "Postgres 16 supports MERGE; no upgrade needed."
