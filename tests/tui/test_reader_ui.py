"""The reader (RLM delegate) in the TUI: a collapsible block of its steps and a row in the swarm."""

from __future__ import annotations

from pathlib import Path

from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.tui.app import NanobotApp
from app.tui.transcript import blocks_from_events
from tests.core.rlm.test_gate import BIG, Build, act, reader_factory
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, blocks, drawn_text
from widgets.swarm_tree import SwarmTree


async def test_reader_steps_show_as_a_block_and_a_swarm_row(tmp_path: Path) -> None:
    main = ScriptedProvider([ScriptedReply.call("build"), "The link failed on frobnicate_v2."],
                            model="qwen2.5-coder-0.5b")
    reader = ScriptedProvider([
        act("ctx_grep", var="output_0", pattern="error"),
        act("ctx_summarize", var="output_0", instruction="which symbol is missing?"),
        act("answer", 0.9, text="frobnicate_v2"),  # the summarize helper's answer
        act("answer", 0.95, text="undefined symbol frobnicate_v2 in src/main.o"),
    ], model="reader-model")
    app = NanobotApp(reader_factory(main, reader, tmp_path, [Build(BIG)]), hardware=FIXED_HW,
                     blink=False)
    swarm = app.session.swarm
    assert swarm is not None and app.session.reader is not None
    events: list[object] = []
    app.session.add_listener(events.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"why does the build fail?", "enter")
        await until(pilot, lambda: any(not b.streaming for b in blocks(app, "delegate")),
                    what="the reader block to finish")
        (block,) = blocks(app, "delegate")
        title = drawn_text(app, block)
        assert not block.open and len(title.splitlines()) == 1  # folded once done
        assert "Reader: reading build output (183,959 chars)" in title and "3 rounds" in title
        steps = block.text.splitlines()
        assert any("ctx_grep" in s for s in steps)
        assert any(s.startswith("  ") for s in steps)  # the depth-2 helper, indented
        await pilot.press("shift+tab")
        while app.conversation.selected_block() is not block:
            await pilot.press("up")
        await pilot.press("enter")
        await until(pilot, lambda: block.open, what="the block to open")
        assert "ctx_grep" in drawn_text(app, block)
        tree = app.query_one(SwarmTree)
        await until(pilot, lambda: any(r.id.startswith("r") and r.state == "done"
                                       for r in tree.snapshot.rows), what="the reader row")
        row = next(r for r in tree.snapshot.rows if r.id.startswith("r"))
        assert row.model == "reader-model" and "reading build output" in row.label
        assert swarm.transcript(row.id)[-1] == ("end", "done: confident (0.95)")
    # A resumed session rebuilds the same block from the event log.
    resumed = [b for b in blocks_from_events(events) if b.kind == "delegate"]  # type: ignore[arg-type]
    assert len(resumed) == 1 and resumed[0].text == block.text
    assert resumed[0].status == block.status and "3 rounds" in block.status
