"""``/model`` and ``/local``: load, unload or switch a slot; flip main between local and cloud.

UI-free: the TUI (slash commands, the command palette, the model picker) parses text into a
:class:`ModelCommand` and awaits :func:`apply_model_command`; the returned text is what the user
is told.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.core.agent.session import Session
from app.core.models.manager import Progress, SlotError
from app.core.providers.registry import ProviderSetupError
from app.core.providers.stack import Stack
from app.core.settings.config import SLOTS

USAGE = ("usage: /model [list] | /model TARGET | /model SLOT TARGET | /model load|unload SLOT | "
         "/model lora [SLOT] PATH|off [SCALE] — SLOT is main, rlm or memory; TARGET is an "
         "embedded model id, a .gguf path, or a provider (NAME or NAME:MODEL)")


class ModelCommandError(Exception):
    pass


@dataclass(frozen=True)
class ModelCommand:
    action: str  # "pick", "list", "load", "unload", "switch", "lora"
    slot: str = "main"
    target: str = ""
    scale: float = 1.0  # lora: the adapter's scale


def parse_model_command(args: str) -> ModelCommand:
    words = args.split()
    if not words:
        return ModelCommand("pick")
    head = words[0].lower()
    if head in ("list", "ls", "status"):
        return ModelCommand("list")
    if head in ("load", "unload"):
        if len(words) != 2 or words[1] not in SLOTS:
            raise ModelCommandError(USAGE)
        return ModelCommand(head, words[1])
    if head == "lora":
        return _parse_lora(words[1:])
    if head == "switch":
        words = words[1:]
    if len(words) == 1:
        return ModelCommand("switch", "main", words[0])
    if len(words) == 2 and words[0] in SLOTS:
        return ModelCommand("switch", words[0], words[1])
    raise ModelCommandError(USAGE)


def _parse_lora(words: list[str]) -> ModelCommand:
    slot = "main"
    if words and words[0] in SLOTS:
        slot, words = words[0], words[1:]
    if not words or len(words) > 2:
        raise ModelCommandError(USAGE)
    target = "" if words[0].lower() in ("off", "none") else words[0]
    scale = 1.0
    if len(words) == 2:
        try:
            scale = float(words[1])
        except ValueError:
            raise ModelCommandError(f"the scale must be a number, got {words[1]!r}") from None
        if not -4.0 <= scale <= 4.0:
            raise ModelCommandError("the scale must be between -4 and 4")
    return ModelCommand("lora", slot, target, scale)


def describe_slots(stack: Stack) -> str:
    lines = []
    for st in stack.manager.statuses():
        where = f"= {st.shared_with}" if st.shared_with else (
            f"{st.mode}{f' :{st.port}' if st.port else ''}")
        speed = f", {st.tok_s:.1f} tok/s" if st.tok_s else ""
        lines.append(f"{st.slot}: {st.model} ({where}, {st.state.value}, "
                     f"context {st.context}{speed})")
    if stack.override:
        lines.append(f"main is pinned to {stack.override}")
    return "\n".join(lines)


async def apply_model_command(cmd: ModelCommand, stack: Stack, session: Session,
                              progress: Progress | None = None) -> str:
    """Carry out ``cmd``; raises :class:`ModelCommandError` with a message for the user and
    changes nothing when the command cannot work."""
    if session.running and cmd.action in ("switch", "unload", "lora"):
        raise ModelCommandError("a turn is running; switch models when it has finished")
    mgr = stack.manager
    if cmd.action in ("list", "pick"):
        return describe_slots(stack)
    if cmd.action == "load":
        st = await mgr.start(cmd.slot, progress)
        return f"{cmd.slot}: {st.model} {st.state.value}" + (f" ({st.message})"
                                                               if st.message else "")
    if cmd.action == "lora":
        try:
            text, reloaded = await mgr.set_lora(cmd.slot, cmd.target, cmd.scale, progress)
        except SlotError as exc:
            raise ModelCommandError(str(exc)) from exc
        if cmd.slot == "main" and reloaded:
            session.set_provider(stack.rebuild(override=""))
        return text
    if cmd.action == "unload":
        await mgr.unload(cmd.slot)
        if cmd.slot == "main":
            session.set_provider(stack.rebuild())
        return f"{cmd.slot} unloaded; it loads again when it is next used"
    try:
        target = stack.registry.resolve(cmd.target)
    except ProviderSetupError as exc:
        raise ModelCommandError(str(exc)) from exc
    if target.kind == "remote" or (target.kind == "local" and target.slot != cmd.slot):
        if cmd.slot != "main":
            raise ModelCommandError(
                f"the {cmd.slot} slot runs local models; to use {cmd.target} for it set "
                f'[roles] {cmd.slot} = "{cmd.target}" in the config')
        session.set_provider(stack.rebuild(override=target.ref))
        return f"main → {target.ref}"
    current = mgr.slot_config(cmd.slot)
    new = dataclasses.replace(current, model=target.model if target.kind == "embedded" else "",
                              path=target.ref if target.kind == "gguf" else "")
    try:
        st = await mgr.switch(cmd.slot, new, progress)
    except SlotError as exc:
        raise ModelCommandError(str(exc)) from exc
    if cmd.slot == "main":
        session.set_provider(stack.rebuild(override=""))
    shared = f"shares {st.shared_with}'s model, " if st.shared_with else ""
    return (f"{cmd.slot} → {st.model} ({shared}{st.state.value}"
            + (f": {st.message}" if st.message and st.state.value != "ready" else "") + ")")


def cloud_target(stack: Stack) -> str:
    agent = stack.registry.config.agent
    if agent.provider != "local":
        return f"{agent.provider}:{agent.model}" if agent.model else agent.provider
    for name, ep in stack.registry.endpoints.items():
        if ep.origin in ("config", "env"):
            return name
    return ""


async def toggle_local(stack: Stack, session: Session) -> str:
    """``/local``: main on the local slot, or back on the configured cloud provider."""
    if session.running:
        raise ModelCommandError("a turn is running; use /local when it has finished")
    now_local = (stack.registry.resolve(stack.override).kind != "remote" if stack.override
                 else stack.registry.chain_targets("main")[0].kind != "remote")
    if now_local:
        cloud = cloud_target(stack)
        if not cloud:
            raise ModelCommandError(
                "no cloud provider configured: add a [providers.NAME] table with base_url and "
                "api_key_env, or export OPENROUTER_API_KEY / OPENAI_API_KEY")
        default_is_cloud = stack.registry.config.agent.provider != "local"
        session.set_provider(stack.rebuild(override="" if default_is_cloud else cloud))
        return f"main → {stack.registry.resolve(cloud).ref} (cloud)"
    session.set_provider(stack.rebuild(override="local:main"))
    return f"main → local ({stack.manager.status('main').model})"
