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
    """The newest session when ``key`` is empty; else an exact id, then a unique id prefix."""
    infos = list_sessions(directory or sessions_dir())
    if not key:
        return infos[0] if infos else None
    exact = [i for i in infos if i.session_id == key]
    if exact:
        return exact[0]
    prefixed = [i for i in infos if i.session_id.startswith(key)]
    return prefixed[0] if len(prefixed) == 1 else None
