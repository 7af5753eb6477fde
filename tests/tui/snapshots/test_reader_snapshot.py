"""Snapshots of the reader's block under a tool call: folded when done, open on Enter."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.blocks import Block
from widgets.conversation import Conversation

STEPS = [
    "probe: 'error' in output_0: 1 line(s)",
    'ctx_grep(output_0, pattern="undefined") -> 1 matching line(s) for \'undefined\'',
    'ctx_summarize(output_0, instruction="which symbol?") -> Stored as variable \'summary_1\'',
    "  ctx_slice(output_0, start=182000, end=184000) -> [output_0 chars 182000-184000]",
    "answer (confidence 0.95): undefined symbol frobnicate_v2 in src/main.o",
]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Conversation()

    def on_mount(self) -> None:
        conv = self.query_one(Conversation)
        conv.append(Block("tool", "[exec output: 183,959 chars, 5,001 lines, saved as @out1 …]\n"
                          "undefined symbol frobnicate_v2 in src/main.o", name="exec",
                          arguments={"command": "make"}, status="ok"))
        conv.append(Block("delegate", "\n".join(STEPS), label="reading exec output "
                          "(183,959 chars)", status="4 rounds, 6.2s, confident (0.95)"))


def test_reader_block_folded(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(Host(), terminal_size=(100, 12))


def test_reader_block_open(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        conv = pilot.app.query_one(Conversation)
        conv.focus()
        await pilot.pause()
        while conv.selected_block() is None or conv.selected_block().kind != "delegate":
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert conv.blocks[-1].open

    assert snap_compare(Host(), terminal_size=(100, 16), run_before=open_it)
