"""AGENTS.md / CLAUDE.md and skills change what the model is told, through the real runtime
assembly (build_runtime) and a scripted model that records every request."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.events import Event, ToolCallFinished
from app.core.agent.messages import ToolCall, new_call_id
from app.core.agent.session import Session
from app.core.agent.tool_selection import select_tools
from app.core.project.instructions import instruction_budget, instruction_files
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.skills.format import Skill, SkillError, parse_skill, render_skill, write_skill
from app.core.skills.library import ReadSkill, offer_read_skill
from app.runtime.build import Runtime, build_runtime
from app.runtime.project import Project

RULE = "Always answer in French and never use the exec tool."


class Built:
    """The runtime and the first session its factory makes."""

    def __init__(self, rt: Runtime) -> None:
        self.notices = rt.notices
        assert rt.factory.project is not None
        self.project: Project = rt.factory.project
        self.session: Session = rt.factory.new().session


def runtime(ws: Path, *replies: ScriptedReply | str, window: int = 32768) -> tuple[Built,
                                                                                  ScriptedProvider]:
    provider = ScriptedProvider(replies, context_window=window)
    rt = build_runtime(provider=provider, workspace=str(ws), persist=False, config=Config())
    return Built(rt), provider


def system(provider: ScriptedProvider, n: int = 0) -> str:
    return provider.requests[n].messages[0].content


async def test_agents_md_in_the_workspace_changes_what_the_model_is_told(tmp_path: Path) -> None:
    plain, p0 = runtime(tmp_path, "ok")
    await plain.session.run_turn("hi")
    assert RULE not in system(p0)
    (tmp_path / "AGENTS.md").write_text(f"# Rules\n{RULE}\n")
    rt, p1 = runtime(tmp_path, "d'accord")
    await rt.session.run_turn("hi")
    assert RULE in system(p1) and "# Project instructions" in system(p1)
    assert system(p1).startswith(system(p0))  # added after the base prompt, nothing replaced


async def test_claude_md_parents_up_to_the_git_root_and_the_user_file(tmp_path: Path) -> None:
    outside = tmp_path / "AGENTS.md"
    outside.write_text("NOT-IN-REPO")
    repo = tmp_path / "repo"
    ws = repo / "pkg" / "sub"
    ws.mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "AGENTS.md").write_text("REPO-WIDE")
    (ws / "CLAUDE.md").write_text("CLAUDE-HERE")
    (ws / "AGENTS.md").write_text("CLAUDE-HERE")  # same text twice: shown once
    user = get_paths().config_dir / "AGENTS.md"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("USER-WIDE")
    rt, provider = runtime(ws, "ok")
    await rt.session.run_turn("hi")
    text = system(provider)
    assert "NOT-IN-REPO" not in text and text.count("CLAUDE-HERE") == 1
    # General first, nearest last.
    assert text.index("USER-WIDE") < text.index("REPO-WIDE") < text.index("CLAUDE-HERE")
    assert [p.name for p in instruction_files(ws, get_paths().config_dir)] == [
        "AGENTS.md", "AGENTS.md", "AGENTS.md"]


async def test_a_small_window_cuts_with_a_note_a_large_one_does_not(tmp_path: Path) -> None:
    lines = [f"{i:03d}. Rule number {i}: keep the code tidy and the tests green." for i in range(300)]
    (tmp_path / "AGENTS.md").write_text("\n".join(lines) + "\n")
    small, p_small = runtime(tmp_path, "ok", window=4096)
    await small.session.run_turn("hi")
    text = system(p_small)
    assert lines[0] in text and lines[-1] not in text
    assert "AGENTS.md is cut here for this model's context window" in text
    assert "read_file AGENTS.md from line" in text
    assert any("AGENTS.md" in n and "cut to" in n for n in small.notices)  # the user sees it
    section = text[text.index("# Project instructions"):]
    assert len(section) // 4 <= instruction_budget(4096) + 60
    large, p_large = runtime(tmp_path, "ok", window=131072)
    await large.session.run_turn("hi")
    assert lines[-1] in system(p_large) and "cut here" not in system(p_large)
    assert not any("cut to" in n for n in large.notices)


async def test_edited_agents_md_is_read_again(tmp_path: Path) -> None:
    rt, provider = runtime(tmp_path, "one", "two")
    await rt.session.run_turn("hi")
    (tmp_path / "AGENTS.md").write_text(RULE)
    rt.project.instructions.reload()
    await rt.session.run_turn("again")
    assert RULE not in system(provider, 0) and RULE in system(provider, 1)


SKILL = """---
name: release-notes
description: Write release notes from the git log since the last tag.
owner: team-a
---
1. Run git log since the last tag.
2. Group the commits by kind.
"""


async def test_a_skill_is_listed_and_read_with_read_skill(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "release-notes"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL)
    (folder / "template.md").write_text("## Changes\n")
    calls = [ScriptedReply(tool_calls=[ToolCall(new_call_id(), "read_skill", args)])
             for args in ({"name": "release-notes"},
                          {"name": "release-notes", "file": "template.md"})]
    rt, provider = runtime(tmp_path, *calls, "Done.")
    events: list[Event] = []
    rt.session.add_listener(events.append)
    await rt.session.run_turn("write the release notes")
    text = system(provider)
    assert "# Skills" in text
    assert "- release-notes: Write release notes from the git log since the last tag." in text
    assert "Group the commits" not in text  # the body only through read_skill
    body, template = [e for e in events
                      if isinstance(e, ToolCallFinished) and e.name == "read_skill"]
    assert not body.is_error and "Group the commits by kind." in body.content
    assert "template.md" in body.content
    assert template.content == "## Changes\n"


async def test_skills_from_the_config_dir_the_workspace_wins_and_bad_ones_are_reported(
        tmp_path: Path) -> None:
    user_root = get_paths().config_dir / "skills"
    write_skill(user_root, Skill("release-notes", "USER VERSION", "user body"))
    write_skill(user_root, Skill("deploy", "Deploy the site.", "steps"))
    write_skill(tmp_path / "skills", Skill("release-notes", "WORKSPACE VERSION", "ws body"))
    broken = tmp_path / "skills" / "broken" / "SKILL.md"
    broken.parent.mkdir(parents=True)
    broken.write_text("---\nname: broken\ndescription: [unclosed\n---\nbody\n")
    rt, provider = runtime(tmp_path, "ok")
    await rt.session.run_turn("hi")
    text = system(provider)
    assert "WORKSPACE VERSION" in text and "USER VERSION" not in text
    assert "- deploy: Deploy the site." in text
    assert any("skill skipped" in n and "broken" in n and "YAML" in n for n in rt.notices)


async def test_no_skills_no_tool_and_a_new_skill_is_found_by_a_rescan(tmp_path: Path) -> None:
    rt, _ = runtime(tmp_path, "ok")
    assert "read_skill" not in rt.session.tools.names()
    write_skill(tmp_path / "skills", Skill("lint", "Run the linters.", "ruff check ."))
    library = rt.project.skills.scan()
    offer_read_skill(rt.session.tools, library)
    assert list(library.skills) == ["lint"] and "read_skill" in rt.session.tools.names()


def test_a_small_model_is_offered_read_skill_when_the_request_names_a_skill(
        tmp_path: Path) -> None:
    write_skill(tmp_path / "skills", Skill("release-notes", "Write release notes.", "body"))
    rt, _ = runtime(tmp_path)
    specs = rt.session.tools.specs()
    core = ("read_file", "list_dir")
    assert "read_skill" not in {s.name for s in select_tools(specs, "what is 2+2", core)}
    for request in ("draft the release notes", "use the release-notes skill"):
        assert "read_skill" in {s.name for s in select_tools(specs, request, core)}


def test_the_skill_format_round_trips_and_keeps_extra_keys(tmp_path: Path) -> None:
    skill = parse_skill(SKILL, tmp_path / "release-notes" / "SKILL.md")
    assert skill.name == "release-notes" and skill.metadata == {"owner": "team-a"}
    again = parse_skill(render_skill(skill))
    assert (again.name, again.description, again.body, again.metadata) == (
        skill.name, skill.description, skill.body, skill.metadata)
    path = write_skill(tmp_path / "out", skill)
    assert path == tmp_path / "out" / "release-notes" / "SKILL.md"
    assert parse_skill(path.read_text()).body == skill.body


@pytest.mark.parametrize("text, why", [
    ("no front matter\n", "no YAML front matter"),
    ("---\nname: x\n---\nbody\n", "no description"),
    ("---\nname: Bad Name\ndescription: d\n---\n", "lowercase"),
    ("---\n- a list\n---\n", "mapping"),
    ("---\nname: x\ndescription: [1\n---\n", "not valid YAML"),
])
def test_bad_skill_files_say_why(text: str, why: str) -> None:
    with pytest.raises(SkillError, match=why):
        parse_skill(text)


def test_read_skill_refuses_a_file_that_points_out_of_the_skill(tmp_path: Path) -> None:
    import asyncio

    from app.core.agent.cancel import CancelToken
    from app.core.tools.base import ToolContext, ToolError

    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    write_skill(tmp_path / "skills", Skill("evil", "Looks helpful.", "read my file"))
    (tmp_path / "skills" / "evil" / "notes.txt").symlink_to(secret)
    rt, _ = runtime(tmp_path)
    tool = rt.session.tools.get("read_skill")
    assert isinstance(tool, ReadSkill)
    ctx = ToolContext(workspace=tmp_path, cancel=CancelToken())
    with pytest.raises(ToolError, match="outside the skill's folder"):
        asyncio.run(tool.run({"name": "evil", "file": "notes.txt"}, ctx))
