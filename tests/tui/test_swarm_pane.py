"""Pilot tests of the swarm pane inside the app: live rows, cancel from the pane, transcripts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.agent.messages import ToolCall
from app.core.providers.scripted import ScriptedReply
from app.core.swarm.events import SwarmSnapshot, WorkerRow
from app.tui.app import NanobotApp
from tests.core.swarm.swarm_helpers import gated, root_factory
from tests.core.swarm.test_swarm import spawn_call
from tests.tui.harness import blocks
from widgets.swarm_tree import SwarmTree
from widgets.worker_transcript import WorkerTranscript


async def test_three_live_rows_and_cancel_from_the_pane(tmp_path: Path) -> None:
    factory, provider = root_factory(tmp_path)
    app = NanobotApp(factory)
    swarm = app.session.swarm
    assert swarm is not None
    gates: dict[str, asyncio.Event] = {}
    for key in ("beta", "gamma", "inner"):
        provider.script(key, (pair := gated(f"{key} done"))[0])
        gates[key] = pair[1]
    provider.script("alpha", ScriptedReply(tool_calls=[spawn_call("inner task")]),
                    ScriptedReply(tool_calls=[ToolCall("cw", "spawn", {"action": "wait"})]))
    provider.script("root", ScriptedReply(tool_calls=[spawn_call("alpha task"),
                                                      spawn_call("beta task"),
                                                      spawn_call("gamma task")]),
                    "Three workers started.", "One was cancelled, two finished.")
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.query_one(SwarmTree)
        assert not tree.display or tree.has_class("-empty")  # hidden while there are no workers
        await pilot.press(*"root: start three", "enter")
        for key in ("beta", "gamma", "inner"):
            await provider.key_seen(key).wait()
        await app.workers.wait_for_complete()
        await pilot.pause()
        ids = {w.label: w.id for w in swarm.workers.values()}
        alpha, beta, gamma, inner = (ids[f"{k} task"] for k in ("alpha", "beta", "gamma",
                                                                "inner"))
        rows = tree.snapshot.rows
        assert [r.id for r in rows if r.parent is None] == [alpha, beta, gamma]
        assert [r.state for r in rows] == ["running"] * 4
        assert not tree.has_class("-empty")
        top = list(tree.root.children)
        assert [n.data.id for n in top if n.data] == [alpha, beta, gamma]  # three live rows
        assert [c.data.id for c in top[0].children if c.data] == [inner]
        assert "alpha task" in str(top[0].label) and "running" in str(top[0].label)

        # Cancel alpha from the pane: it and its child stop; the others keep running.
        tree.focus()
        tree.move_cursor(top[0])
        await pilot.press("x")
        await swarm.wait([alpha, inner])
        await pilot.pause()
        states = {r.id: r.state for r in tree.snapshot.rows}
        assert states == {alpha: "cancelled", inner: "cancelled", beta: "running",
                          gamma: "running"}
        told = [n.text for n in blocks(app, "notice") if n.text.startswith(f"[worker {alpha}")]
        assert told and "cancelled after" in told[0] and "cancelled by user" in told[0]

        # Select a row: its transcript opens; Escape closes it.
        tree.move_cursor(top[1])
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkerTranscript) and app.screen.worker_id == beta
        assert app.screen.lines[0] == ("task", "beta task")
        gates["beta"].set()
        await swarm.wait([beta])
        await pilot.pause()
        assert app.screen.lines[-1] == ("end", "done")  # the open transcript updated live
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, WorkerTranscript)

        gates["gamma"].set()
        await swarm.wait([gamma])
        app.query_one("#prompt").focus()
        await pilot.press(*"root: report", "enter")
        await app.workers.wait_for_complete()
        reports = [m.content for m in provider.requests[-1].messages
                   if m.role == "notice" and m.content.startswith("[worker")]
        assert len(reports) == 3 and any(alpha in r and "cancelled" in r for r in reports)
        assert app.session.swarm is swarm


async def test_cancel_key_on_an_ended_worker_only_warns(tmp_path: Path) -> None:
    from textual.app import App, ComposeResult

    posted: list[str] = []

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield SwarmTree()

        def on_swarm_tree_cancel_requested(self, message: SwarmTree.CancelRequested) -> None:
            posted.append(message.worker_id)

    row = WorkerRow("w1", None, 1, "done one", "m", "done", "", 3.0, 10, 2, 10, None, None)
    live = WorkerRow("w2", None, 1, "live one", "m", "running", "", 3.0, 10, 2, 10, None, None)
    app = Host()
    async with app.run_test() as pilot:
        tree = app.query_one(SwarmTree)
        tree.show(SwarmSnapshot((row, live)))
        tree.focus()
        tree.move_cursor(tree.root.children[0])
        await pilot.press("x")
        tree.move_cursor(tree.root.children[1])
        await pilot.press("delete")
        await pilot.pause()
        assert posted == ["w2"]
