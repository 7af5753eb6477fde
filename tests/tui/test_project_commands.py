"""/mcp, /skills, /instructions and /init in the real app, with the runtime's wiring
(app.runtime.project) on a scripted model; MCP through the real test server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core.mcp.settings import McpServerConfig
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.skills.format import Skill, write_skill
from app.runtime.project import Project
from app.tui.app import NanobotApp
from app.tui.screens.permission import PermissionScreen
from tests.pilot_wait import until
from tests.servers import MCP_SERVER
from tests.tui.harness import FIXED_HW, make_factory


def app_for(ws: Path, *replies: ScriptedReply | str, config: Config | None = None
            ) -> tuple[NanobotApp, object]:
    config = config or Config()
    provider = ScriptedProvider(replies, model="qwen2.5-coder-0.5b", context_window=8192)
    project = Project.load(config, ws, get_paths().config_dir)
    factory = make_factory(ws, provider, config=config, project=project)
    notes = project.notes(provider.capabilities.context_window)
    return NanobotApp(factory, notices=notes, hardware=FIXED_HW, blink=False), provider


def notices(app: NanobotApp) -> list[str]:
    return [b.text for b in app.conversation.blocks if b.kind == "notice"]


async def test_mcp_without_servers_says_how_to_add_one(tmp_path: Path) -> None:
    app, provider = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/mcp", "enter")
        await until(pilot, lambda: any("No MCP servers configured" in n for n in notices(app)))
        assert "[mcp_servers.files]" in notices(app)[-1]
        assert provider.requests == []  # type: ignore[attr-defined]


async def test_mcp_lists_starts_and_a_prompt_calls_a_tool_after_the_question(
        tmp_path: Path) -> None:
    pytest.importorskip("mcp", reason="the MCP SDK is the optional extra nanobot[mcp]")
    note = tmp_path / "from-tui.txt"
    config = Config(mcp_servers={"test": McpServerConfig(command=sys.executable,
                                                         args=(str(MCP_SERVER),))})
    app, _ = app_for(tmp_path, ScriptedReply.call("test__write_note", path=str(note),
                                                  text="typed in the TUI"), "Saved.",
                     config=config)
    assert app.factory.project is not None
    manager = app.factory.project.mcp
    assert manager is not None
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*"/mcp", "enter")
        await until(pilot, lambda: any("not started" in n for n in notices(app)))
        await pilot.press(*"/mcp start", "enter")
        await until(pilot, lambda: any("'test' ready" in n for n in notices(app)), seconds=60)
        await until(pilot, lambda: any("test__write_note" in n and "ready" in n
                                       for n in notices(app)))
        await pilot.press(*"save the note", "enter")
        await until(pilot, lambda: isinstance(app.screen, PermissionScreen), seconds=30)
        assert isinstance(app.screen, PermissionScreen)
        assert app.screen.request.tool == "test__write_note"
        assert "typed in the TUI" in app.screen.request.preview
        await pilot.press("y")
        await until(pilot, lambda: note.exists() and not app.busy, seconds=30)
        assert note.read_text() == "typed in the TUI"
        # A new session shares the running server: its tools are in the new session's registry.
        old = app.session
        await pilot.press(*"/new", "enter")
        await until(pilot, lambda: app.session is not old, what="the new session")
        assert "test__write_note" in app.session.tools.names()
        assert app.session.tools.get("test__write_note") is old.tools.get("test__write_note")
    # Leaving the app stopped the server.
    assert manager.status()[0].state == "stopped"


async def test_skills_lists_what_the_model_can_load(tmp_path: Path) -> None:
    write_skill(tmp_path / "skills", Skill("release-notes", "Write release notes.", "steps"))
    bad = tmp_path / "skills" / "bad" / "SKILL.md"
    bad.parent.mkdir()
    bad.write_text("no front matter")
    app, _ = app_for(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert any("skill skipped" in n for n in notices(app))  # at startup
        await pilot.press(*"/skills", "enter")
        await until(pilot, lambda: any("release-notes: Write release notes." in n
                                       for n in notices(app)))
        assert "skipped" in notices(app)[-1] and "bad" in notices(app)[-1]


async def test_init_drafts_agents_md_and_the_next_message_carries_it(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Demo\n\nA demo tool that counts words in files.\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\nrequires-python = ">=3.11"'
                                             '\n[tool.ruff]\nline-length = 100\n')
    (tmp_path / "tests").mkdir()
    app, provider = app_for(tmp_path, "ok")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/instructions", "enter")
        await until(pilot, lambda: any("No AGENTS.md" in n for n in notices(app)))
        await pilot.press(*"/init", "enter")
        await until(pilot, lambda: (tmp_path / "AGENTS.md").exists()
                    and any("Drafted" in n for n in notices(app)))
        text = (tmp_path / "AGENTS.md").read_text()
        assert "A demo tool that counts words in files." in text
        assert "python -m pytest" in text and "ruff check ." in text
        await pilot.press(*"/instructions", "enter")
        await until(pilot, lambda: any("AGENTS.md —" in n for n in notices(app)))
        await pilot.press(*"hello", "enter")
        await until(pilot, lambda: bool(provider.requests) and not app.busy)  # type: ignore[attr-defined]
        system = provider.requests[0].messages[0].content  # type: ignore[attr-defined]
        assert "A demo tool that counts words in files." in system
        await pilot.press(*"/init", "enter")  # an existing file is never overwritten
        await until(pilot, lambda: any("already exists" in n for n in notices(app)))
        assert (tmp_path / "AGENTS.md").read_text() == text
