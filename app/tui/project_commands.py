"""Slash commands for what a project brings: ``/mcp``, ``/skills``, ``/instructions``, ``/init``.

Each prints its answer into the conversation as a notice (never sent to the model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.project.init_draft import write_draft
from app.tui.slash import SlashCommand, register_slash

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

MCP_HELP = ("No MCP servers configured. Add one to the config, e.g.\n"
            "  [mcp_servers.files]\n  command = \"npx\"\n"
            "  args = [\"-y\", \"@modelcontextprotocol/server-filesystem\", \".\"]\n"
            "(README: MCP servers; `nanobot doctor` checks them)")


def mcp_report(app: CommandPort) -> str:
    project = app.factory.project
    manager = project.mcp if project is not None else None
    if manager is None:
        return MCP_HELP
    lines = ["MCP servers (/mcp start, /mcp restart NAME):"]
    for s in manager.status():
        lines.append(f"  {s.name} [{s.transport}: {s.target}] — {s.state}")
        if s.error:
            lines.append(f"      {s.error}")
        if s.tools:
            lines.append(f"      {len(s.tools)} tool(s): {', '.join(s.tools)}")
    return "\n".join(lines)


async def _mcp(app: CommandPort, arg: str) -> None:
    project = app.factory.project
    manager = project.mcp if project is not None else None
    verb, _, name = arg.strip().partition(" ")
    if manager is not None and verb == "start":
        app.say("Starting MCP servers…")
        for note, level in await manager.start_all():
            app.add_notice(note, level)
    elif manager is not None and verb == "restart":
        name = name.strip()
        if name not in manager.connections:
            app.say(f"no MCP server {name!r}; /mcp lists them", "error")
            return
        note, level = await manager.restart(name)
        app.add_notice(note, level)
    elif verb:
        app.say("/mcp takes no argument, start, or restart NAME", "warning")
        return
    app.add_notice(mcp_report(app))


async def _skills(app: CommandPort, arg: str) -> None:
    from app.tui.skill_ops import run_skills

    await run_skills(app, arg)


def instructions_report(app: CommandPort) -> str:
    project = app.factory.project
    if project is None:
        return "Project instructions are not available in this session."
    found = project.instructions
    found.reload()
    window = app.session.context_limit
    parts = found.parts(window)
    if not parts:
        return ("No AGENTS.md or CLAUDE.md for this workspace. /init drafts one from the "
                "project's files.")
    lines = [f"Project instructions in the system prompt ({window:,}-token window):"]
    for p in parts:
        state = f"cut to {p.shown_tokens:,} of {p.tokens:,} tokens" if p.cut else \
            f"{p.tokens:,} tokens"
        lines.append(f"  {p.label} — {state}")
    return "\n".join(lines)


async def _instructions(app: CommandPort, arg: str) -> None:
    app.add_notice(instructions_report(app))


async def _init(app: CommandPort, arg: str) -> None:
    workspace = app.session.options.workspace
    force = arg.strip() == "force"
    path, created = write_draft(workspace, force=force)
    if not created and not force:
        app.add_notice(
            f"{path.name} already exists ({path}); it is in the system prompt. /init force "
            "writes a fresh draft to AGENTS.draft.md to compare.", "warning")
        return
    if app.factory.project is not None:
        app.factory.project.instructions.reload()
    if created:
        text = (f"Drafted {path} from the project's files; it is in the system prompt from "
                "the next message. Check it and add your own conventions.")
    else:
        text = f"Wrote a fresh draft to {path} (your AGENTS.md is unchanged)."
    app.add_notice(text)


for _cmd in (
    SlashCommand("mcp", "[start|restart NAME]", "MCP servers: state and tools", _mcp,
                 ("", "start")),
    SlashCommand("skills", "[show|edit|enable|disable|delete NAME]",
                 "Skills and learned recipes: list, show, edit, disable, delete", _skills),
    SlashCommand("instructions", "", "AGENTS.md / CLAUDE.md files in the system prompt",
                 _instructions),
    SlashCommand("init", "[force]", "Draft an AGENTS.md for this project", _init),
):
    register_slash(_cmd)
