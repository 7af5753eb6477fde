"""Models in the TUI: ``/model``, ``/local``, ``/doctor``, ``/dashboard``, the model picker,
managed servers at start-up, and how the side panel names where the model runs.

The work itself is UI-free (:mod:`app.core.models.commands`); these functions turn it into
screens and messages. They see the app through :class:`~app.tui.ports.CommandPort`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.models.commands import (
    ModelCommand,
    ModelCommandError,
    apply_model_command,
    parse_model_command,
    toggle_local,
)
from app.core.models.discover import model_dirs, scan
from app.core.models.embedded import catalog
from app.core.models.hardware import HardwareSampler
from app.core.providers.base import Provider
from app.core.settings.config import SLOTS
from app.tui.screens.model_picker import ModelPickerScreen, PickerOption

if TYPE_CHECKING:
    from app.core.providers.stack import Stack
    from app.tui.ports import CommandPort, Shell


def model_detail(provider: Provider, stack: Stack | None) -> str:
    """Where the model runs and its window, for the side panel."""
    where = {"local": "in-process", "replay": "replay", "scripted": "scripted"}.get(
        provider.name, f"{provider.name} (HTTP)")
    if provider.name.startswith("local:") and stack is not None:
        # A slot of the model manager: in-process, or a managed llama.cpp server.
        slot = provider.name.partition(":")[2]
        try:
            mode = stack.manager.status(slot).mode
        except (KeyError, ValueError):
            mode = "inprocess"
        where = f"{provider.name} · " + ("server" if mode == "server" else "in-process")
    return f"{where} · ctx {provider.capabilities.context_window:,}"


def picker_options(stack: Stack) -> list[PickerOption]:
    opts = [PickerOption(f"{m.title} (embedded)", mid) for mid, m in catalog().items()]
    for lm in scan(model_dirs(stack.registry.config.local.model_dirs)):
        if lm.ok and lm.info is not None:
            opts.append(PickerOption(f"{lm.path.name} ({lm.info.quantization}, "
                                     f"{lm.size / 1e9:.1f} GB)", str(lm.path)))
    for name, ep in stack.registry.endpoints.items():
        for model in ep.models[:5] or ("",):
            ref = f"{name}:{model}" if model else name
            opts.append(PickerOption(f"{ref} ({ep.origin} provider)", ref, main_only=True))
    return opts


async def run_model_command(app: CommandPort, cmd: ModelCommand) -> None:
    stack = app.stack
    if stack is None:
        app.add_notice("model management is not available in this session", "warning")
        return
    if cmd.action == "pick":
        open_model_picker(app)
        return

    def progress(text: str) -> None:
        app.notify(text, timeout=2)

    try:
        msg = await apply_model_command(cmd, stack, app.session, progress)
    except ModelCommandError as exc:
        app.add_notice(str(exc), "error")
        return
    app.add_notice(msg)
    app.model_changed()


def open_model_picker(app: CommandPort, slot: str = "main") -> None:
    stack = app.stack
    if stack is None:
        app.notify("model management is not available in this session", severity="warning")
        return

    async def chosen(cmd: ModelCommand | None) -> None:
        if cmd is not None:
            await run_model_command(app, cmd)

    app.push_screen(ModelPickerScreen(stack.manager.statuses(), picker_options(stack), slot),
                    chosen)


def open_dashboard(app: CommandPort) -> None:
    from app.tui.screens.dashboard import DashboardScreen

    sampler = HardwareSampler(interval=1.0)
    sampler.sample_once()  # the first numbers (and the GPU count) before the screen composes
    stack = app.stack
    route = (lambda: stack.router.last if stack.router else None) if stack else None
    app.push_screen(DashboardScreen(sampler, stack.manager if stack else None, route=route))


def open_doctor(app: Shell) -> None:
    from app.tui.screens.doctor import DoctorScreen

    app.push_screen(DoctorScreen())


async def model_slash(app: CommandPort, arg: str) -> None:
    """``/model [list|load|unload|SLOT TARGET|NAME]``: through the slot manager; without it (a
    replay, a test app) switch the session's provider only."""
    if app.stack is None:
        if arg:
            await app.switch_model(arg)
        else:
            app.open_model_picker()
        return
    try:
        cmd = parse_model_command(arg)
    except ModelCommandError as exc:
        app.add_notice(str(exc), "error")
        return
    await run_model_command(app, cmd)


async def local_slash(app: CommandPort, arg: str = "") -> None:
    """``/local``: main on the local slot, or back on the configured cloud provider."""
    stack = app.stack
    if stack is None:
        app.add_notice("/local is not available in this session", "warning")
        return
    try:
        app.add_notice(await toggle_local(stack, app.session))
    except ModelCommandError as exc:
        app.add_notice(str(exc), "error")
        return
    app.model_changed()


async def start_managed_servers(app: CommandPort) -> None:
    """Start the slots configured with ``serve = "server"``, reporting in the conversation."""
    stack = app.stack
    if stack is None:
        return
    for slot in SLOTS:
        if stack.manager.slot_config(slot).serve != "server":
            continue
        st = await stack.manager.start(slot, lambda t: app.notify(t, timeout=2))
        kind = "info" if st.state.value == "ready" else "error"
        detail = st.message + (f"\n{st.log_tail}" if st.log_tail and kind == "error" else "")
        app.add_notice(f"{slot}: {st.model} {st.state.value} — {detail}", kind)
