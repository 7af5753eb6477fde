"""Panes, keys and slash commands contributed by features outside the core TUI.

Imported once by :mod:`app.tui.app` so every registration happens before the app builds its
bindings: volumes, processes, the dashboard and the model commands, compaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from app.tui.actions import ActionSpec, register_action
from app.tui.screens import ScreenEntry, register_screen
from app.tui.slash import SlashCommand, register_slash

if TYPE_CHECKING:
    from app.tui.ports import CommandPort


def _volumes() -> Screen[Any]:
    from app.tui.screens.volumes import VolumesScreen

    return VolumesScreen()


def _processes() -> Screen[Any]:
    from app.tui.screens.processes import ProcessesScreen

    return ProcessesScreen()


# The model commands live in app/tui/model_ops.py, imported on first use: it loads the core's
# model modules, which the app's first frame does not wait for.


async def _model(app: CommandPort, arg: str) -> None:
    from app.tui.model_ops import model_slash

    await model_slash(app, arg)


async def _local(app: CommandPort, arg: str) -> None:
    from app.tui.model_ops import local_slash

    await local_slash(app, arg)


async def _doctor(app: CommandPort, arg: str) -> None:
    from app.tui.model_ops import open_doctor

    open_doctor(app)


async def _dashboard(app: CommandPort, arg: str) -> None:
    from app.tui.model_ops import open_dashboard

    open_dashboard(app)


async def _compact(app: CommandPort, arg: str) -> None:
    manager = app.session.compaction
    answer = manager.compact_now() if manager is not None else "compaction is not set up"
    app.add_notice(f"compact: {answer}")


register_screen(ScreenEntry("volumes", _volumes, "Volumes", keys="ctrl+o",
                            description="Volumes: ingested context (ctx_* tools)"))
register_screen(ScreenEntry("processes", _processes, "Processes", keys="f6",
                            description="Processes: MAKER runs on this machine"))
for _cmd in (
    SlashCommand("model", "[list|load|unload|SLOT TARGET|NAME]",
                 "Models: pick, switch, load or unload a slot", _model,
                 aliases=("m",)),
    SlashCommand("local", "", "Switch main between local and the configured cloud provider",
                 _local, aliases=("l",)),
    SlashCommand("doctor", "", "Environment, hardware, tier and what fits", _doctor),
    SlashCommand("dashboard", "", "Hardware and model dashboard", _dashboard,
                 aliases=("dash",)),
    SlashCommand("compact", "", "Compact the context now (background summary)", _compact),
):
    register_slash(_cmd)

register_action(ActionSpec("dashboard", "f4", "dashboard", "Hardware and model dashboard", "Panes"))

# /rate, /stats, /traces, F7 and alt+up/down; /memory, /private, /branch; /mcp, /skills,
# /instructions, /init
from app.tui import learning_commands, memory_commands, project_commands  # noqa: E402, F401
