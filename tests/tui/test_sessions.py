"""Sessions: resume rebuilds the view from the JSONL; damage is reported, the file untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.providers.scripted import ScriptedReply
from app.core.settings.paths import get_paths
from app.runtime.sessions import find_session
from app.tui.screens.sessions import SessionsScreen
from tests.tui.harness import blocks, make_app


async def test_quit_restart_resume_brings_the_conversation_back(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    app, _ = make_app(tmp_path, ScriptedReply.call("list_dir", path="."), "**a.txt** is there.",
                      persist=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"what files?", "enter")
        await app.workers.wait_for_complete()
    assert app.session.store is not None
    saved = app.session.store.path

    # A new app, as after a restart; /sessions; pick the first (newest) session.
    fresh, provider = make_app(tmp_path, "again", persist=True)
    async with fresh.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/sessions", "enter")
        await pilot.pause()
        assert isinstance(fresh.screen, SessionsScreen)
        assert fresh.screen.infos[0].path == saved
        await pilot.press("enter")
        await fresh.workers.wait_for_complete()
        await pilot.pause()
        assert fresh.session.store is not None and fresh.session.store.path == saved
        assert [u.text for u in blocks(fresh, "user")] == ["what files?"]
        assert blocks(fresh, "tool")[0].status == "ok"
        assert "a.txt" in "".join(m.text for m in blocks(fresh, "assistant"))
        # The model sees the old conversation on the next turn.
        await pilot.press(*"and now?", "enter")
        await fresh.workers.wait_for_complete()
        contents = [m.content for m in provider.requests[-1].messages]
        assert "what files?" in contents and "and now?" in contents


async def test_damaged_session_file_shows_up_to_the_damage_and_is_not_rewritten(
        tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "first answer", "second answer", persist=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"one", "enter")
        await app.workers.wait_for_complete()
        await pilot.press(*"two", "enter")
        await app.workers.wait_for_complete()
    assert app.session.store is not None
    path = app.session.store.path
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(3, "{this is not json\n")
    damaged = "".join(lines) + '{"type": "TextDelta", "turn_id": "t3", "te'  # torn last line
    path.write_text(damaged)

    fresh, _ = make_app(tmp_path, persist=True)
    async with fresh.run_test(size=(100, 30)) as pilot:
        fresh.resume_path(path)
        await fresh.workers.wait_for_complete()
        await pilot.pause()
        assert [u.text for u in blocks(fresh, "user")] == ["one", "two"]
        notes = [n.text for n in blocks(fresh, "notice") if n.level == "warning"]
        assert any("2 damaged line(s)" in n and "not changed" in n for n in notes)
    assert path.read_text() == damaged


def test_find_session_by_prefix_and_newest(tmp_path: Path) -> None:
    d = get_paths().sessions_dir
    d.mkdir(parents=True)
    for name in ("20260101-000000-aaaaaa", "20260102-000000-bbbbbb"):
        (d / f"{name}.jsonl").write_text('{"type": "TurnStarted", "turn_id": "t", "text": "x"}\n')
    import os

    os.utime(d / "20260101-000000-aaaaaa.jsonl", (1, 1))
    newest = find_session("")
    assert newest is not None and newest.session_id == "20260102-000000-bbbbbb"
    assert find_session("20260101") is not None
    with pytest.raises(LookupError, match="ambiguous"):  # said so, not "no match"
        find_session("2026")
    assert find_session("nope") is None
