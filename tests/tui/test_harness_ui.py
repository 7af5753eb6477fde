"""The harness in the app: grounded reads and votes on tool-call blocks, the same on resume."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.core.agent.messages import ToolCall
from app.core.harness.config import HarnessConfig
from app.core.providers.scripted import ScriptedReply
from app.tui.app import NanobotApp
from app.tui.transcript import blocks_from_events
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks, drawn_text, scripted_factory


async def test_blocks_show_a_grounded_read_and_a_vote_tally(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("buy milk\n")
    listing = ScriptedReply(tool_calls=[ToolCall("c1", "list_dir", {"path": "."})])
    factory, provider = scripted_factory(tmp_path, listing, listing, "It says buy milk.",
                                         "It says buy milk.")
    app = NanobotApp(replace(factory, harness=HarnessConfig(vote_k=2)), hardware=FIXED_HW,
                     blink=False)
    provider.capabilities = replace(provider.capabilities, small=True)
    events: list[object] = []
    app.session.add_listener(events.append)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"what does notes.txt say?", "enter")
        await until(pilot, lambda: any(b.kind == "assistant" and not b.streaming
                                       for b in blocks(app)), what="the answer")
        read, listed = blocks(app, "tool")
        assert (read.name, listed.name) == ("read_file", "list_dir")
        assert "read for your request" in drawn_text(app, read)
        assert "vote 2/2" in drawn_text(app, listed)
        assert "vote" not in drawn_text(app, read)
        assert "read for your request" not in drawn_text(app, listed)
        live = [(b.name, b.badge) for b in (read, listed)]
    # A resumed session rebuilds the same blocks from the session's events.
    rebuilt = [(b.name, b.badge) for b in blocks_from_events(events)  # type: ignore[arg-type]
               if b.kind == "tool"]
    assert rebuilt == live == [("read_file", "read for your request"), ("list_dir", "vote 2/2")]
