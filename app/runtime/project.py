"""What a workspace brings to every session: its instructions (AGENTS.md, CLAUDE.md), its skills
and the configured MCP servers.

They are loaded once, by :func:`app.runtime.build.build_runtime`, and belong to the session
factory (``factory.project``): the servers run for the app's lifetime and every session the
factory makes (the first, ``/new``, a resumed one) gets them through :func:`install_project`. The
TUI's ``/mcp``, ``/skills``, ``/instructions`` and ``/init`` reach them there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.mcp.manager import McpManager
from app.core.project.instructions import Instructions
from app.core.settings.config import Config
from app.core.skills.library import SkillLibrary, offer_read_skill

if TYPE_CHECKING:
    from app.runtime.factory import SessionBuild

log = logging.getLogger(__name__)


@dataclass
class Project:
    instructions: Instructions
    skills: SkillLibrary
    mcp: McpManager | None = None  # None: no server configured

    @classmethod
    def load(cls, config: Config, workspace: Path, config_dir: Path) -> Project:
        """Read the instruction files and the skill folders; nothing starts (MCP servers start
        with the first turn)."""
        mcp = McpManager(config.mcp_servers, workspace) if config.mcp_servers else None
        return cls(Instructions.load(workspace, config_dir),
                   SkillLibrary.for_workspace(workspace, config_dir), mcp)

    def notes(self, window: int) -> list[str]:
        """For the user at start-up: instructions cut for a ``window``-token model, skills that
        could not be read."""
        return [*self.instructions.notes(window),
                *(f"skill skipped: {p}" for p in self.skills.problems)]

    async def aclose(self) -> None:
        """Stop the MCP servers and their process groups; a failure is logged, never raised."""
        if self.mcp is None:
            return
        try:
            await self.mcp.aclose()
        except Exception:
            log.exception("stopping the MCP servers failed")


def install_project(build: SessionBuild) -> None:
    """The instructions and the skill index into a main session's system prompt, ``read_skill``
    and the running MCP servers' tools into its registry. A worker gets none of it: its task and
    the tools it was given are all it needs (the parent's MCP and skill tools reach it by name)."""
    project = build.factory.project
    if project is None or build.worker is not None:
        return
    build.options.prompt_sections += [project.instructions.section, project.skills.index]
    offer_read_skill(build.tools, project.skills)
    if project.mcp is not None:
        build.hooks.append(project.mcp)
