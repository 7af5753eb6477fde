"""``/memory``, ``/private`` and ``/branch``: long-term memory and thinking on the side.

``/memory`` opens the memory screen; with words it acts at once and answers in the conversation:
``add TEXT``, ``edit ID TEXT``, ``delete ID``, ``search QUERY``, ``briefing`` (show it),
``rebuild`` (build the briefing now). ``/private [on|off]`` keeps nothing from this session.
``/branch QUESTION`` forks the conversation into a branch that thinks about it on the side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.memory.db import MemoryDbError
from app.core.memory.hook import MemoryHook
from app.core.memory.store import MemoryInputError
from app.core.swarm.branch import start_branch
from app.core.tools.base import ToolError
from app.tui.slash import SlashCommand, register_slash

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

OFF = "Long-term memory is off ([memory] enabled = false in the config)."
USAGE = ("/memory [add TEXT | edit ID TEXT | delete ID | search QUERY | briefing | rebuild]; "
         "no argument opens the memory screen")


def _hook(app: CommandPort) -> MemoryHook | None:
    hook = app.factory.memory  # one memory for the app, given to every session it makes
    if hook is not None:
        hook.bind(app.session)  # /new and resume: act for the session on screen
    return hook


def _fact_id(text: str) -> int:
    try:
        return int(text.lstrip("#"))
    except ValueError:
        raise MemoryInputError(f"{text!r} is not a fact number; /memory lists them") from None


async def memory_command(app: CommandPort, arg: str) -> str:
    """Run ``/memory ARG`` (not the screen); returns the answer for the conversation."""
    hook = _hook(app)
    if hook is None:
        return OFF
    memory, ws = hook.memory, hook.workspace()
    verb, _, rest = arg.strip().partition(" ")
    rest = rest.strip()
    try:
        if verb == "add" and rest:
            done = memory.remember(rest, workspace=ws)
            return f"{'Updated' if done.merged else 'Remembered'} #{done.fact.id}: {done.fact.text}"
        if verb == "edit":
            fid, _, text = rest.partition(" ")
            fact = memory.facts.edit(_fact_id(fid), text)
            return f"Edited #{fact.id}: {fact.text}"
        if verb in ("delete", "forget") and rest:
            fact = memory.facts.delete(_fact_id(rest))
            return f"Deleted #{fact.id}: {fact.text}"
        if verb == "search" and rest:
            return memory.render(memory.recall(rest, workspace=ws,
                                               exclude_session=app.session.session_id))
        if verb == "briefing":
            if hook.bulletin is None:
                return "The memory briefing is off ([memory] bulletin = false)."
            return f"{hook.bulletin.status()}\n{hook.bulletin.text or '(none yet)'}"
        if verb == "rebuild":
            if hook.schedule is None:
                return "The memory briefing is off ([memory] bulletin = false)."
            hook.schedule.start()
            hook.schedule.rebuild_soon()
            return "Rebuilding the memory briefing in the background (/memory briefing shows it)."
    except (MemoryInputError, MemoryDbError) as exc:
        return f"memory: {exc}"
    return USAGE


async def _memory(app: CommandPort, arg: str) -> None:
    if arg.strip():
        app.add_notice(await memory_command(app, arg))
        return
    hook = _hook(app)
    if hook is None:
        app.say(OFF, "warning")
        return
    from app.tui.screens.memory import MemoryScreen

    app.push_screen(MemoryScreen(hook))


async def _private(app: CommandPort, arg: str) -> None:
    hook = _hook(app)
    if hook is None:
        app.say(OFF, "warning")
        return
    a = arg.strip().lower()
    if a not in ("", "on", "off"):
        app.say("/private takes on or off (nothing: on)", "error")
        return
    note = hook.set_private(app.session, a != "off")
    app.add_notice(note)


async def _branch(app: CommandPort, arg: str) -> None:
    swarm = app.session.swarm
    if swarm is None:
        app.say("Branches need the swarm, which this session does not have.", "warning")
        return
    try:
        w = start_branch(swarm, arg)
    except ToolError as exc:
        app.say(str(exc), "error")
        return
    app.add_notice(
        f"branch {w.id} is thinking about: {w.task} — the conversation goes on; its result "
        "comes back here and into the next turn (swarm pane: x cancels)")


def drop_briefing(app: CommandPort) -> str:
    """``/clear``'s part: the memory briefing goes, so stale topics do not carry over."""
    hook = app.factory.memory
    if hook is None or hook.bulletin is None:
        return ""
    return "; memory briefing dropped" if hook.bulletin.clear() else ""


for _cmd in (
    SlashCommand("memory", "[add|edit|delete|search|briefing|rebuild]",
                 "Long-term memory: show, edit and delete facts; the briefing", _memory,
                 ("", "briefing", "rebuild")),
    SlashCommand("private", "[on|off]", "Keep nothing from this session in long-term memory",
                 _private, ("on", "off")),
    SlashCommand("branch", "QUESTION", "Think about a question on the side (a fork of the "
                 "conversation with read-only tools)", _branch),
):
    register_slash(_cmd)
