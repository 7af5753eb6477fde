"""Panes, keys and slash commands contributed by features outside the core TUI.

Imported once by :mod:`app.tui.app` so every registration happens before the app builds its bindings:
volumes (issue 7), the dashboard and model commands (issue 5), compaction (issue 6), processes
(issue 8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from app.tui.actions import ActionSpec, register_action
from app.tui.screens import ScreenEntry, register_screen
from app.tui.slash import SlashCommand, register_slash

if TYPE_CHECKING:
    from app.tui.app import NanobotApp


def _volumes() -> Screen[Any]:
    from app.tui.screens.volumes import VolumesScreen

    return VolumesScreen()


async def _models(app: NanobotApp, arg: str, name: str) -> None:
    """/model, /local, /doctor, /dashboard through the slot manager (issue 5)."""
    from app.tui.model_ops import handle_slash

    text = f"/{name} {arg}".strip()
    if app.stack is None and name == "model":  # replay or a test app: switch the provider only
        if arg:
            await app.switch_model(arg)
        else:
            app.open_model_picker()
        return
    if not await handle_slash(app, text):
        app.say(f"/{name} is not available in this session", "warning")


async def _model(app: NanobotApp, arg: str) -> None:
    await _models(app, arg, "model")


async def _local(app: NanobotApp, arg: str) -> None:
    await _models(app, arg, "local")


async def _doctor(app: NanobotApp, arg: str) -> None:
    await _models(app, arg, "doctor")


async def _dashboard(app: NanobotApp, arg: str) -> None:
    await _models(app, arg, "dashboard")


def _processes() -> Screen[Any]:
    from app.tui.screens.processes import ProcessesScreen

    return ProcessesScreen()


async def _compact(app: NanobotApp, arg: str) -> None:
    app.add_notice(f"compact: {app.bridge.compact()}")


register_screen(ScreenEntry("volumes", _volumes, "Volumes", keys="ctrl+o",
                            description="Volumes: ingested context (ctx_* tools)"))
register_screen(ScreenEntry("processes", _processes, "Processes", keys="f6",
                            description="Processes: MAKER runs on this machine"))
for _cmd in (
    SlashCommand("model", "[list|load|unload|SLOT TARGET|NAME]",
                 "Models: pick, switch, load or unload a slot", _model),
    SlashCommand("local", "", "Switch main between local and the configured cloud provider",
                 _local),
    SlashCommand("doctor", "", "Environment, hardware, tier and what fits", _doctor),
    SlashCommand("dashboard", "", "Hardware and model dashboard", _dashboard),
    SlashCommand("compact", "", "Compact the context now (background summary)", _compact),
):
    register_slash(_cmd)

register_action(ActionSpec("dashboard", "f4", "dashboard", "Hardware and model dashboard", "Panes"))

# /rate, /stats, /traces, F7 and alt+up/down; /mcp, /skills, /instructions, /init
from app.tui import learning_commands, project_commands  # noqa: E402, F401
