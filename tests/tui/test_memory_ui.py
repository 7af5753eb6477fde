"""Memory, the briefing and branches in the app (Pilot): a branch result arrives while the user
keeps chatting; x in the swarm pane cancels a branch; /clear drops the briefing; /memory shows,
edits, pins and deletes facts; /private keeps nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.memory.bulletin import HEADING
from app.core.memory.hook import memory_of
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config, MemoryConfig
from app.core.swarm.branch import RESULT_HEAD
from app.runtime.build import build_runtime
from app.tui.app import NanobotApp
from app.tui.screens.memory import MemoryScreen
from tests.core.swarm.branch_helpers import TwoScripts
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks, drawn_text
from widgets.swarm_tree import SwarmTree

BRIEF = "### Active context\nThe user is writing release notes.\n### Key facts\n- none"


def app_for(tmp_path: Path, provider: ScriptedProvider, **memory: object) -> NanobotApp:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    cfg = Config(memory=MemoryConfig(auto_recall=0, **memory))  # type: ignore[arg-type]
    rt = build_runtime(provider=provider, workspace=str(ws), persist=True, config=cfg)
    return NanobotApp(rt.factory, config=rt.config, hardware=FIXED_HW, blink=False)


def gated(text: str) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=[text[:3], text[3:]], gate_at=1, gate=gate), gate


async def test_a_branch_result_arrives_while_the_user_keeps_chatting(tmp_path: Path) -> None:
    provider = TwoScripts()
    app = app_for(tmp_path, provider)
    reply, gate = gated("The flaky test depends on the wall clock; freeze time in it.")
    provider.branch.enqueue(reply)
    provider.root.enqueue("Sure: 2 + 2 = 4.")
    provider.root.enqueue("The branch found it: freeze time in that test.")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"/branch why is test_expiry flaky?", "enter")
        await provider.branch.request_seen.wait()
        swarm = app.session.swarm
        assert swarm is not None
        (w,) = swarm.workers.values()
        tree = app.query_one(SwarmTree)
        await until(pilot, lambda: any(r.label.startswith("branch: ") and r.state == "running"
                                       for r in tree.snapshot.rows), what="branch row")
        # The user chats on while the branch thinks.
        await pilot.press(*"what is 2 + 2?", "enter")
        await until(pilot, lambda: any(m.text == "Sure: 2 + 2 = 4."
                                       for m in blocks(app, "assistant")), what="reply")
        assert not w.final and not blocks(app, "branch")
        gate.set()
        await until(pilot, lambda: bool(blocks(app, "branch")), what="branch result block")
        (block,) = blocks(app, "branch")
        assert block.label == "why is test_expiry flaky?" and "freeze time" in block.text
        assert "⑂ branch result  why is test_expiry flaky?" in drawn_text(app, block)
        # The result is part of the next turn.
        await pilot.press(*"so what do I do?", "enter")
        await until(pilot, lambda: any(m.text.startswith("The branch found it")
                                       for m in blocks(app, "assistant")), what="answer")
        last = provider.root.requests[-1].messages
        assert any(m.role == "notice" and m.content.startswith(RESULT_HEAD)
                   and "wall clock" in m.content for m in last)


async def test_x_in_the_swarm_pane_cancels_a_branch(tmp_path: Path) -> None:
    provider = TwoScripts()
    app = app_for(tmp_path, provider)
    reply, _gate = gated("never")
    provider.branch.enqueue(reply)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"/branch a slow question", "enter")
        await provider.branch.request_seen.wait()
        tree = app.query_one(SwarmTree)
        await until(pilot, lambda: bool(tree.snapshot.rows), what="row")
        tree.focus()
        tree.move_cursor(tree.root.children[0])
        await pilot.press("x")
        await until(pilot, lambda: bool(blocks(app, "branch")), what="branch result block")
        (block,) = blocks(app, "branch")
        assert block.status == "cancelled" and "(cancelled)" in drawn_text(app, block)
        assert tree.snapshot.rows[0].state == "cancelled"


async def test_branch_cap_and_empty_question_are_refused_with_a_message(tmp_path: Path) -> None:
    provider = TwoScripts()
    ws = tmp_path / "ws"
    ws.mkdir()
    from app.core.settings.config import SwarmConfig

    rt = build_runtime(provider=provider, workspace=str(ws), persist=False,
                       config=Config(swarm=SwarmConfig(max_branches=1)))
    app = NanobotApp(rt.factory, config=rt.config, hardware=FIXED_HW, blink=False)
    reply, gate = gated("done")
    provider.branch.enqueue(reply)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"/branch first", "enter")
        await provider.branch.request_seen.wait()
        await pilot.press(*"/branch second", "enter")
        await until(pilot, lambda: "max_branches = 1" in str(app.flash.render()),
                    what="cap message")
        gate.set()
        await until(pilot, lambda: bool(blocks(app, "branch")), what="first result")
        # The refused second branch never reached the model: one branch, one result.
        assert len(provider.branch.requests) == 1
        assert len(blocks(app, "branch")) == 1


async def test_clear_drops_the_memory_briefing(tmp_path: Path) -> None:
    provider = ScriptedProvider(["first", "second"])
    app = app_for(tmp_path, provider)
    hook = memory_of(app.session)
    assert hook is not None and hook.bulletin is not None
    hook.bulletin.text = BRIEF
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"hello", "enter")
        await until(pilot, lambda: len(provider.requests) == 1 and not app.session.running)
        assert HEADING in provider.requests[0].messages[0].content
        await pilot.press(*"/clear", "enter")
        await until(pilot, lambda: any("memory briefing dropped" in n.text
                                       for n in blocks(app, "notice")), what="clear notice")
        assert hook.bulletin.text == ""
        await pilot.press(*"again", "enter")
        await until(pilot, lambda: len(provider.requests) == 2)
        assert HEADING not in provider.requests[1].messages[0].content


async def test_memory_screen_edits_pins_and_deletes(tmp_path: Path) -> None:
    app = app_for(tmp_path, ScriptedProvider([]))
    hook = memory_of(app.session)
    assert hook is not None
    ws = hook.workspace()
    hook.memory.remember("The user likes green tea", workspace=ws, user=True)
    keep = hook.memory.remember("Builds run with make ci", workspace=ws).fact
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*"/memory", "enter")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen), what="memory screen")
        screen = app.screen
        assert isinstance(screen, MemoryScreen) and len(screen.facts) == 2
        # The newest is first: "Builds run with make ci".
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k", *"Builds run with make check", "enter")
        await until(pilot, lambda: hook.memory.facts.get(keep.id).text  # type: ignore[union-attr]
                    == "Builds run with make check", what="edit saved")
        await pilot.press("p")
        await until(pilot, lambda: hook.memory.facts.get(keep.id).pinned,  # type: ignore[union-attr]
                    what="pinned")
        await pilot.press("down", "d")
        assert hook.memory.facts.count() == 2  # one press only arms it
        await pilot.press("d")
        await until(pilot, lambda: hook.memory.facts.count() == 1, what="deleted")
        assert [f.text for f in hook.memory.facts.all()] == ["Builds run with make check"]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, MemoryScreen), what="closed")
        await pilot.press(*"/memory add Releases are cut on Mondays", "enter")
        await until(pilot, lambda: hook.memory.facts.count() == 2, what="added")
        await pilot.press(*"/memory search releases", "enter")
        await until(pilot, lambda: any("Releases are cut on Mondays" in n.text
                                       and "Remembered facts" in n.text
                                       for n in blocks(app, "notice")), what="search result")


async def test_private_keeps_nothing_from_the_session(tmp_path: Path) -> None:
    provider = ScriptedProvider([
        ScriptedReply.call("remember", fact="The staging password hint is 'otter'"),
        "I cannot keep that here."])
    app = app_for(tmp_path, provider)
    hook = memory_of(app.session)
    assert hook is not None
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/private", "enter")
        await until(pilot, lambda: any("this session is private" in n.text
                                       for n in blocks(app, "notice")), what="private notice")
        await pilot.press(*"remember the staging password hint otter", "enter")
        await until(pilot, lambda: len(provider.requests) == 2 and not app.session.running)
        assert hook.memory.facts.count() == 0 and hook.memory.past.count() == 0
        tool = [m for m in provider.requests[1].messages if m.role == "tool"]
        assert tool and "private" in tool[0].content
