"""Snapshots of the reader's block under a tool call: folded when done, open on Enter."""

from __future__ import annotations

from textual.app import App, ComposeResult

from widgets.delegate_block import DelegateBlock
from widgets.tool_call import ToolCallBlock

STEPS = [
    "probe: 'error' in output_0: 1 line(s)",
    'ctx_grep(output_0, pattern="undefined") -> 1 matching line(s) for \'undefined\'',
    'ctx_summarize(output_0, instruction="which symbol?") -> Stored as variable \'summary_1\'',
    "  ctx_slice(output_0, start=182000, end=184000) -> [output_0 chars 182000-184000]",
    "answer (confidence 0.95): undefined symbol frobnicate_v2 in src/main.o",
]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        tool = ToolCallBlock("exec", {"command": "make"})
        tool.finish("[exec output: 183,959 chars, 5,001 lines, saved as @out1 …]\n"
                    "undefined symbol frobnicate_v2 in src/main.o", is_error=False)
        yield tool
        yield DelegateBlock("reading exec output (183,959 chars)", steps=STEPS,
                            summary="4 rounds, 6.2s, confident (0.95)")


def test_reader_block_folded(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(Host(), terminal_size=(100, 12))


def test_reader_block_open(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def open_it(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.query_one(DelegateBlock).focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(100, 16), run_before=open_it)
