"""Glue between the app and issue 5's model features: ``/model``, ``/local``, ``/doctor``,
``/dashboard``, the model picker and managed servers at start-up.

Kept out of ``app/tui/app.py`` so the app only needs a few one-line hooks (see the README section
"Models, hardware and providers").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from app.core.settings.config import SLOTS
from app.tui.screens.model_picker import ModelPickerScreen, PickerOption

if TYPE_CHECKING:
    from textual.app import App

    from app.core.providers.stack import Stack

SLASH = ("/model", "/m", "/local", "/l", "/doctor", "/dashboard", "/dash")


def _stack(app: App[Any]) -> Stack | None:
    stack: Stack | None = getattr(app, "stack", None)
    return stack


async def _tell(app: App[Any], text: str, kind: str = "info") -> None:
    from widgets.conversation import Conversation

    convs = app.query(Conversation)
    if convs:
        await convs.first().add_notice(text, kind)
    else:
        app.notify(text, severity="error" if kind == "error" else "information")


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


async def run_model_command(app: App[Any], cmd: ModelCommand) -> None:
    stack = _stack(app)
    session = getattr(app, "session", None)
    if stack is None or session is None:
        await _tell(app, "model management is not available in this session", "warning")
        return
    if cmd.action == "pick":
        open_model_picker(app)
        return

    def progress(text: str) -> None:
        app.notify(text, timeout=2)

    try:
        msg = await apply_model_command(cmd, stack, session, progress)
    except ModelCommandError as exc:
        await _tell(app, str(exc), "error")
        return
    await _tell(app, msg)
    app.sub_title = session.provider.model


def open_model_picker(app: App[Any], slot: str = "main") -> None:
    stack = _stack(app)
    if stack is None:
        app.notify("model management is not available in this session", severity="warning")
        return

    async def chosen(cmd: ModelCommand | None) -> None:
        if cmd is not None:
            await run_model_command(app, cmd)

    app.push_screen(ModelPickerScreen(stack.manager.statuses(), picker_options(stack), slot),
                    chosen)


def open_dashboard(app: App[Any]) -> None:
    from app.tui.screens.dashboard import DashboardScreen

    sampler = HardwareSampler(interval=1.0)
    sampler.sample_once()  # the first numbers (and the GPU count) before the screen composes
    stack = _stack(app)
    route = (lambda: stack.router.last if stack.router else None) if stack else None
    app.push_screen(DashboardScreen(sampler, stack.manager if stack else None, route=route))


async def handle_slash(app: App[Any], text: str) -> bool:
    """Run ``/model``, ``/local``, ``/doctor`` or ``/dashboard``; False for anything else."""
    head, _, rest = text.strip().partition(" ")
    if head not in SLASH:
        return False
    if head in ("/doctor",):
        from app.tui.screens.doctor import DoctorScreen

        app.push_screen(DoctorScreen())
    elif head in ("/dashboard", "/dash"):
        open_dashboard(app)
    elif head in ("/local", "/l"):
        stack, session = _stack(app), getattr(app, "session", None)
        if stack is None or session is None:
            await _tell(app, "/local is not available in this session", "warning")
            return True
        try:
            await _tell(app, await toggle_local(stack, session))
            app.sub_title = session.provider.model
        except ModelCommandError as exc:
            await _tell(app, str(exc), "error")
    else:
        try:
            cmd = parse_model_command(rest)
        except ModelCommandError as exc:
            await _tell(app, str(exc), "error")
            return True
        await run_model_command(app, cmd)
    return True


async def start_managed_servers(app: App[Any]) -> None:
    """Start the slots configured with ``serve = "server"``, reporting in the conversation."""
    stack = _stack(app)
    if stack is None:
        return
    for slot in SLOTS:
        if stack.manager.slot_config(slot).serve != "server":
            continue
        st = await stack.manager.start(slot, lambda t: app.notify(t, timeout=2))
        kind = "info" if st.state.value == "ready" else "error"
        detail = st.message + (f"\n{st.log_tail}" if st.log_tail and kind == "error" else "")
        await _tell(app, f"{slot}: {st.model} {st.state.value} — {detail}", kind)
