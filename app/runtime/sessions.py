"""Start a fresh session or resume a saved one next to the current one (same model and tools).

No Textual here: the App calls these and rebuilds its view from what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.agent.events import Event
from app.core.agent.session import Session
from app.core.harness.harness import install as install_harness
from app.core.policy.permissions import PermissionGate
from app.core.settings.paths import get_paths
from app.core.store.session_store import (
    SessionInfo,
    SessionStore,
    history_from_events,
    list_sessions,
    read_session,
)


@dataclass
class Opened:
    session: Session
    events: list[Event]
    skipped: int = 0
    skipped_lines: tuple[int, ...] = ()

    def damage_note(self, name: str) -> str:
        if not self.skipped:
            return ""
        lines = ", ".join(map(str, self.skipped_lines[:5]))
        more = "…" if len(self.skipped_lines) > 5 else ""
        return (f"{self.skipped} damaged line(s) in {name} could not be read and were skipped "
                f"(line {lines}{more}); everything else is shown. The file was not changed.")


def sessions_dir() -> Path:
    return get_paths().sessions_dir


def open_like(current: Session, path: Path | None = None) -> Opened:
    """A new session (``path`` None) or the one saved at ``path``, reusing provider and tools."""
    persist = current.store is not None
    if path is None:
        store = SessionStore.create(sessions_dir()) if persist else None
        return Opened(_carry(current, Session(current.provider, tools=current.tools,
                                              options=current.options, store=store)), [])
    read = read_session(path)
    session = Session(current.provider, tools=current.tools, options=current.options,
                      store=SessionStore(path), history=history_from_events(read.events))
    return Opened(_carry(current, session), read.events, read.skipped, tuple(read.skipped_lines))


def _carry(current: Session, new: Session) -> Session:
    """What belongs to the app rather than to one conversation goes on: hooks that say so (the
    MCP servers), the permission policy (not what "allow for this session" allowed) and the
    approver that asks the user."""
    new.hooks.extend(h for h in current.hooks if getattr(h, "carry_over", False))
    new.permissions = PermissionGate(current.permissions.config)
    new.approver = current.approver
    _carry_harness(current, new)
    return new


def _carry_harness(current: Session, new: Session) -> None:
    """The new session runs with the same harness settings (a fresh one: reads are per session)."""
    if current.harness is not None:
        install_harness(new, current.harness.config)


def find_session(key: str, directory: Path | None = None) -> SessionInfo | None:
    """The newest session when ``key`` is empty; else an exact id, then a unique id prefix.

    A prefix that several sessions share raises :class:`LookupError` naming them.
    """
    infos = list_sessions(directory or sessions_dir())
    if not key:
        return infos[0] if infos else None
    exact = [i for i in infos if i.session_id == key]
    if exact:
        return exact[0]
    prefixed = [i for i in infos if i.session_id.startswith(key)]
    if len(prefixed) > 1:
        names = ", ".join(i.session_id for i in prefixed[:5]) + (", …" if len(prefixed) > 5
                                                                 else "")
        raise LookupError(f"{key!r} is ambiguous: it begins {len(prefixed)} sessions ({names}); "
                          "give more of the id")
    return prefixed[0] if prefixed else None


def resume_target(key: str | None, continue_: bool = False) -> Path | None:
    """The session file ``--resume [ID]`` / ``--continue`` name (None: neither was given).

    Raises :class:`LookupError` with a message for the user when nothing (or too much) matches.
    """
    if continue_:
        key = ""
    if key is None:
        return None
    info = find_session(key)
    if info is None:
        what = f"no saved session matches {key!r}" if key else "no saved sessions yet"
        raise LookupError(f"{what} (in {sessions_dir()})")
    return info.path
