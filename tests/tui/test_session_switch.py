"""Every way to get a session gives a complete one: after ``/new``, after resuming from F3 and
after ``nanobot --continue``, a write asks the user (and approval writes the file), ``/compact``
summarises, and a spawned worker reports to the session on screen and is cancelled from the pane.
It also has the user's ``[permissions]``, the reader for large tool output, the project's
instructions (AGENTS.md) in what the model is told and its skills (``read_skill``).

These ran into three bugs when a session was put together by hand next to the first one: no
approver (every write refused as if headless), no compaction, and a ``spawn`` tool still bound to
the first session's swarm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from app.cli import build_parser
from app.cli import tui as cli_tui
from app.core.context.summarizer import Summarizer
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.settings.tool_config import PermissionsConfig
from app.core.skills.format import Skill, write_skill
from app.runtime import build as runtime
from app.runtime.factory import SessionFactory, builtin_tool_source
from app.runtime.project import Project
from app.tui.app import NanobotApp
from app.tui.screens.permission import PermissionScreen
from app.tui.screens.sessions import SessionsScreen
from tests.core.swarm.swarm_helpers import KeyedProvider, gated
from tests.core.swarm.test_swarm import spawn_call
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, make_factory

SUMMARY = "## Task\n- write made.txt\n## Facts\n- made.txt holds one line"
RULE = "Name every file you write in the answer."
# The user's policy: a tool the defaults would ask for is refused (write_file still asks).
PERMISSIONS = PermissionsConfig(tools={"edit_file": "deny"})


def factory_for(tmp_path: Path) -> tuple[SessionFactory, KeyedProvider, ScriptedProvider]:
    """The product's parts on scripted models: built-in tools under the default policy (a write
    asks), sessions saved, a summariser for /compact, workers and compaction installed."""
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "AGENTS.md").write_text(f"# Rules\n{RULE}\n")
    write_skill(ws / "skills", Skill("release-notes", "Write release notes.", "steps"))
    config = Config(permissions=PERMISSIONS)
    provider = KeyedProvider()
    memory = ScriptedProvider(model="memory-slot", context_window=4096)
    factory = make_factory(ws, provider, persist=True, config=config,
                           tools=builtin_tool_source(config),
                           summarizer=Summarizer(memory, timeout_s=30.0),
                           project=Project.load(config, ws, get_paths().config_dir))
    return factory, provider, memory


def notices(app: NanobotApp) -> list[str]:
    return [b.text for b in app.conversation.blocks if b.kind == "notice"]


def said(app: NanobotApp) -> list[str]:
    return [b.text for b in app.conversation.blocks if b.kind == "user"]


async def first_session(factory: SessionFactory, provider: KeyedProvider) -> Path:
    """A saved conversation, as an earlier run leaves it."""
    provider.script("root", "hello back")
    session = factory.new().session
    outcome = await session.run_turn("root: hello")
    assert outcome.status == "finished" and session.store is not None
    session.store.close()
    return session.store.path


async def check_the_session_on_screen(app: NanobotApp, pilot: Pilot[Any],
                                      provider: KeyedProvider, memory: ScriptedProvider) -> None:
    session = app.session
    ws = session.options.workspace

    # The user's policy, the reader and the project's skills came with the session.
    assert session.permissions.config == PERMISSIONS and session.approver is not None
    assert session.reader is not None
    assert "read_skill" in session.tools.names() and "edit_file" in session.tools.names()

    # A write asks the user; approving it writes the file.
    provider.script("root", ScriptedReply.call("write_file", path="made.txt", content="made\n"),
                    "Wrote made.txt.")
    await pilot.press(*"root: write made.txt", "enter")
    await until(pilot, lambda: isinstance(app.screen, PermissionScreen),
                what="the permission question")
    await pilot.press("y")
    await app.workers.wait_for_complete()
    await until(pilot, lambda: not app.busy, what="the turn to end")
    assert (ws / "made.txt").read_text() == "made\n"
    # The model was told the project's instructions and offered its skills.
    system = provider.requests[-1].messages[0].content
    assert RULE in system and "release-notes: Write release notes." in system

    # /compact starts a summary of this session, and the summary arrives.
    memory.enqueue(SUMMARY)
    await pilot.press(*"/compact", "enter")
    await until(pilot, lambda: "compact: started" in notices(app), what="/compact's answer")
    manager = session.compaction
    assert manager is not None
    await manager.wait_summary()
    assert manager.pending is not None and "made.txt" in manager.pending.text

    # A worker spawned now belongs to this session: it shows in the pane, the pane cancels it,
    # and its report reaches this conversation.
    reply, gate = gated("helper done")
    provider.script("helper", reply)
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("helper task")]),
                    "Started a helper.")
    await pilot.press(*"root: start a helper", "enter")
    await provider.key_seen("helper").wait()
    await app.workers.wait_for_complete()
    swarm = session.swarm
    assert swarm is not None and swarm.root is session
    tree = app.swarm_tree
    await until(pilot, lambda: [r.state for r in tree.snapshot.rows] == ["running"],
                what="the worker's row")
    (wid,) = [r.id for r in tree.snapshot.rows]
    tree.focus()
    tree.move_cursor(next(iter(tree.root.children)))
    await pilot.press("x")
    await swarm.wait([wid])
    await until(pilot, lambda: any(n.startswith(f"[worker {wid} 'helper task' cancelled")
                                   for n in notices(app)), what="the worker's report")
    assert swarm.workers[wid].state == "cancelled"
    gate.set()


async def test_new_session_asks_compacts_and_runs_workers(tmp_path: Path) -> None:
    factory, provider, memory = factory_for(tmp_path)
    provider.script("root", "hello back")
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"root: hello", "enter")
        await app.workers.wait_for_complete()
        old = app.session
        await pilot.press(*"/new", "enter")
        await until(pilot, lambda: app.session is not old, what="the new session")
        assert app.session.history == [] and app.session.swarm is not old.swarm
        await check_the_session_on_screen(app, pilot, provider, memory)
        assert old.swarm is not None and not old.swarm.workers  # nothing went to the old one


async def test_session_resumed_from_f3_asks_compacts_and_runs_workers(tmp_path: Path) -> None:
    factory, provider, memory = factory_for(tmp_path)
    saved = await first_session(factory, provider)
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, SessionsScreen), what="F3")
        assert isinstance(app.screen, SessionsScreen) and app.screen.infos[0].path == saved
        await pilot.press("enter")
        await until(pilot, lambda: app.session.store is not None
                    and app.session.store.path == saved, what="the resumed session")
        await until(pilot, lambda: said(app) == ["root: hello"],
                    what="the resumed conversation")
        await check_the_session_on_screen(app, pilot, provider, memory)


async def test_continue_from_the_command_line_asks_compacts_and_runs_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    factory, provider, memory = factory_for(tmp_path)
    saved = await first_session(factory, provider)

    def scripted_runtime(**_: Any) -> runtime.Runtime:
        return runtime.Runtime(factory.config, factory)

    monkeypatch.setattr(runtime, "build_runtime", scripted_runtime)
    args = build_parser().parse_args(["--continue"])
    # As ``nanobot --continue`` builds it: the session comes behind the first frame.
    app = NanobotApp(config=factory.config, boot=lambda: cli_tui.boot(args), hardware=FIXED_HW,
                     blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.attached, what="the session")
        assert app.session.store is not None and app.session.store.path == saved
        await until(pilot, lambda: said(app) == ["root: hello"],
                    what="the resumed conversation")
        await check_the_session_on_screen(app, pilot, provider, memory)
