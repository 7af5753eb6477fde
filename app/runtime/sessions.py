"""Saved sessions: where they live and which one a key (``--resume ID``, ``--continue``) names.

Sessions themselves are made by :class:`app.runtime.factory.SessionFactory` (``new``, ``resume``).
"""

from __future__ import annotations

from pathlib import Path

from app.core.settings.paths import get_paths
from app.core.store.session_store import SessionInfo, list_sessions


def sessions_dir() -> Path:
    return get_paths().sessions_dir


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
