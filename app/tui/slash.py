"""Slash commands typed in the prompt. They never reach the model, known or not.

Adding one (for a new feature):

    from app.tui.slash import SlashCommand, register_slash

    async def _doctor(app: CommandPort, arg: str) -> None:
        ...

    register_slash(SlashCommand("doctor", "", "Check the installation", _doctor))

Each name (and alias) is registered once: registering a taken one is an error, so two modules
cannot silently fight over a command. The help screen and the command palette list every
registered command with its aliases. Handlers see the app through
:class:`~app.tui.ports.CommandPort`.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

Handler = Callable[["CommandPort", str], Awaitable[None]]

THINK_MIN, THINK_MAX = 1024, 128_000


@dataclass(frozen=True)
class SlashCommand:
    name: str
    usage: str  # argument summary, e.g. "on|off|N"
    help: str
    run: Handler
    palette: tuple[str, ...] = ("",)  # argument variants offered in the command palette
    aliases: tuple[str, ...] = ()  # short names that run the same command (/m for /model)

    @property
    def title(self) -> str:
        """``/model (/m)``: the name and its aliases, as help shows them."""
        short = ", ".join(f"/{a}" for a in self.aliases)
        return f"/{self.name}" + (f" ({short})" if short else "")


_COMMANDS: dict[str, SlashCommand] = {}
_NAMES: dict[str, str] = {}  # every name and alias → the command's name


def register_slash(cmd: SlashCommand) -> SlashCommand:
    for name in (cmd.name, *cmd.aliases):
        if name in _NAMES:
            raise ValueError(f"/{name} is already registered (by /{_NAMES[name]})")
    _COMMANDS[cmd.name] = cmd
    for name in (cmd.name, *cmd.aliases):
        _NAMES[name] = cmd.name
    return cmd


def commands() -> list[SlashCommand]:
    return sorted(_COMMANDS.values(), key=lambda c: c.name)


def lookup(name: str) -> SlashCommand | None:
    """The command ``name`` (or an alias of it) runs."""
    key = _NAMES.get(name)
    return _COMMANDS[key] if key is not None else None


def parse(text: str) -> tuple[str, str] | None:
    """``"/think 2048"`` → ``("think", "2048")``; None when it is not a command (``//`` escapes)."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//") or len(stripped) < 2:
        return None
    name, _, arg = stripped[1:].partition(" ")
    return name.lower(), arg.strip()


def suggest(name: str) -> str | None:
    close = difflib.get_close_matches(name, list(_COMMANDS), n=1, cutoff=0.5)
    if close:
        return close[0]
    prefixed = [c for c in _COMMANDS if c.startswith(name[:2])] if name else []
    return prefixed[0] if prefixed else None


async def dispatch(app: CommandPort, text: str) -> bool:
    """Run a slash command; returns False when ``text`` is not one (send it to the model)."""
    parsed = parse(text)
    if parsed is None:
        return False
    name, arg = parsed
    cmd = lookup(name)
    if cmd is None:
        hint = suggest(name)
        tip = f" Did you mean /{hint}?" if hint else ""
        app.say(f"Unknown command /{name}.{tip} /help lists them. (Not sent to the model.)",
                "warning")
        return True
    await cmd.run(app, arg)
    return True


def parse_think(arg: str, current: bool) -> tuple[bool, int | None, str]:
    """``/think [on|off|N]`` → (on, budget, message). Raises ValueError on bad input."""
    a = arg.strip().lower()
    if not a:
        on = not current
        return on, None, f"thinking {'on' if on else 'off'}"
    if a in ("on", "true", "yes"):
        return True, None, "thinking on"
    if a in ("off", "false", "no", "0"):
        return False, None, "thinking off"
    try:
        n = int(a.replace("_", "").replace(",", ""))
    except ValueError:
        raise ValueError(f"/think takes on, off or a token budget, not {arg!r}") from None
    if n < 0:
        raise ValueError("the thinking budget cannot be negative")
    clamped = max(THINK_MIN, min(THINK_MAX, n))
    note = "" if clamped == n else f" (clamped to {THINK_MIN:,}-{THINK_MAX:,})"
    return True, clamped, f"thinking on, budget {clamped:,} tokens{note}"


# --- the built-in commands --------------------------------------------------------------------


async def _think(app: CommandPort, arg: str) -> None:
    try:
        on, budget, message = parse_think(arg, app.thinking)
    except ValueError as exc:
        app.say(str(exc), "error")
        return
    app.set_thinking(on, budget)
    app.say(message)


async def _sessions(app: CommandPort, arg: str) -> None:
    if not arg:
        app.action_sessions()
        return
    from app.core.store.session_store import list_sessions
    from app.runtime.sessions import sessions_dir

    infos = list_sessions(sessions_dir())
    match = [i for i in infos if i.session_id == arg] or [
        i for i in infos if i.session_id.startswith(arg)]
    if len(match) != 1:
        what = "no saved session" if not match else f"{len(match)} sessions"
        app.say(f"/sessions {arg}: {what} match (Tab completes the ids, /sessions lists them)",
                "warning")
        return
    app.resume_path(match[0].path)


async def _new(app: CommandPort, arg: str) -> None:
    await app.new_session()


async def _clear(app: CommandPort, arg: str) -> None:
    from app.tui.memory_commands import drop_briefing

    await app.action_clear_view(drop_briefing(app))


async def _theme(app: CommandPort, arg: str) -> None:
    if not arg:  # in the conversation: it wraps (the flash line would cut the list)
        names = ", ".join(app.theme_names())
        app.add_notice(f"theme: {app.theme}. Available: {names}. /theme NAME switches "
                       "(Tab completes the name).")
        return
    app.set_theme(arg)


async def _copy(app: CommandPort, arg: str) -> None:
    app.copy_last(arg.strip().lower())


async def _help(app: CommandPort, arg: str) -> None:
    app.action_help()


for _cmd in (
    SlashCommand("think", "[on|off|N]", "Thinking on/off, or on with a token budget N", _think,
                 ("on", "off", "4096")),
    SlashCommand("sessions", "[ID]", "List saved sessions and resume one (or resume ID)",
                 _sessions),
    SlashCommand("new", "", "Start a new session (this one stays saved)", _new),
    SlashCommand("clear", "", "Clear the view and the memory briefing (the session keeps "
                 "everything)", _clear),
    SlashCommand("theme", "[NAME]", "Switch theme and remember it", _theme,
                 ("nanobot-dark", "nanobot-light")),
    SlashCommand("help", "", "Keys and commands", _help),
    SlashCommand("copy", "[code]", "Copy the last reply (or its last code block)", _copy,
                 ("", "code")),
):
    register_slash(_cmd)
