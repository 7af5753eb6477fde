"""Snapshots of the memory screen (facts, a pinned one, the briefing's state; and empty) and of
branch result blocks, from fixed data: the memory's clock, the briefing's clock and the time zone
are pinned so the ages and dates shown never change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from app.core.memory.bulletin import Bulletin
from app.core.memory.facts import Source
from app.core.memory.hook import MemoryHook
from app.core.memory.service import Memory
from app.core.settings.config import MemoryConfig
from widgets.blocks import Block
from widgets.conversation import Conversation

NOW = 1_764_000_000.0  # a fixed "now" for every clock in these snapshots
DAY = 86_400.0
BRIEF = ("### Active context\nThe user is writing release notes.\n### Key facts\n"
         "- Deploys happen every Thursday.\n### Recent patterns\nAsks for short answers.")


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The screen prints when a fact was said in local time: make that UTC here."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class Clock:
    """A clock the test moves: facts are kept at chosen times, then shown at :data:`NOW`."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def hook_with_facts(tmp_path: Path, *, facts: bool = True) -> MemoryHook:
    clock = Clock()
    memory = Memory(tmp_path / "memory.db", MemoryConfig(), clock=clock)
    ws = Path.cwd()  # an unbound hook lists the facts of the current directory's project
    if facts:
        clock.now = NOW - 40 * DAY
        memory.remember("The user's cat is called Miso.", workspace=ws, user=True,
                        source=Source("20251020-0915-a1b2", "t3", clock.now))
        clock.now = NOW - 2 * DAY
        pinned = memory.remember("Deploys happen every Thursday.", workspace=ws,
                                 source=Source("20251122-1402-c3d4", "t1", clock.now)).fact
        memory.facts.set_pinned(pinned.id, True)
        clock.now = NOW - 3600
        memory.remember("Builds run with make check, never plain pytest.", workspace=ws,
                        source=Source("20251124-1630-e5f6", "t7", clock.now))
    clock.now = NOW
    hook = MemoryHook(memory)
    hook.bulletin = Bulletin(memory, None, tmp_path / "briefing.md", ws, clock=lambda: NOW)
    if facts:
        hook.bulletin.text, hook.bulletin.built_at = BRIEF, NOW - 25 * 60
    return hook


class MemoryHost(App[None]):
    def __init__(self, hook: MemoryHook) -> None:
        super().__init__()
        self.hook = hook

    def compose(self) -> ComposeResult:
        yield Static("conversation")

    def on_mount(self) -> None:
        from app.tui.screens.memory import MemoryScreen

        self.push_screen(MemoryScreen(self.hook))


def test_memory_screen(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(MemoryHost(hook_with_facts(tmp_path)), terminal_size=(100, 18))


def test_memory_screen_briefing(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def show_briefing(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("b")
        await pilot.pause()

    assert snap_compare(MemoryHost(hook_with_facts(tmp_path)), terminal_size=(100, 22),
                        run_before=show_briefing)


def test_memory_screen_empty(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(MemoryHost(hook_with_facts(tmp_path, facts=False)),
                        terminal_size=(100, 12))


class BranchHost(App[None]):
    def compose(self) -> ComposeResult:
        yield Conversation()

    def on_mount(self) -> None:
        conv = self.query_one(Conversation)
        conv.append(Block("branch", "It compares against the wall clock at midnight UTC; freeze "
                          "time in the test (the fixture in tests/conftest.py does it).",
                          label="why is test_expiry flaky?", status="done"))
        conv.append(Block("branch", "Read 2 of 9 files before it stopped.",
                          label="how big is the index?", status="over_budget"))
        conv.append(Block("branch", "", label="a slow question", status="cancelled"))


def test_branch_result_blocks(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(BranchHost(), terminal_size=(100, 14))
