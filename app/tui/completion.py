"""Tab completion in the prompt: slash commands, their arguments, and file paths after ``@``.

:func:`complete` looks at the word under the cursor and returns what Tab does with it: the new
prompt text when there is one candidate (or a longer common prefix), and the candidates to show
otherwise. Pressing Tab again on the same text cycles through them (the prompt keeps that state).

Argument candidates come from :data:`ARGUMENTS` (themes, models, sessions, on/off…) or, for other
commands, from the variants they list for the command palette.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.tui import slash

if TYPE_CHECKING:
    from app.tui.app import NanobotApp

MAX_PATHS = 200  # entries read from one directory


@dataclass(frozen=True)
class Completion:
    value: str  # the prompt text after Tab
    cursor: int
    candidates: tuple[str, ...] = field(default=())  # shown when Tab could not decide


def _themes(app: NanobotApp) -> list[str]:
    return app.theme_names()


def _models(app: NanobotApp) -> list[str]:
    from app.core.models.embedded import catalog

    out = list(catalog())
    for name, pconf in app.config.providers.items():
        out += [f"{name}:{m}" for m in pconf.models] or [name]
    if app.stack is not None:
        out += ["list", "load", "unload"]
    return out


def _sessions(app: NanobotApp) -> list[str]:
    from app.core.store.session_store import list_sessions
    from app.runtime.sessions import sessions_dir

    return [info.session_id for info in list_sessions(sessions_dir())]


ARGUMENTS: dict[str, Callable[[NanobotApp], list[str]]] = {
    "theme": _themes, "model": _models, "sessions": _sessions,
    "think": lambda app: ["on", "off", "2048", "4096", "8192"],
    "copy": lambda app: ["code"],
}


def common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    first, last = min(words), max(words)  # the sorted extremes differ first
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _choose(value: str, start: int, end: int, word: str, options: list[str],
            suffix: Callable[[str], str]) -> Completion | None:
    """Replace ``value[start:end]`` (``word`` so far) by what the options allow."""
    hits = sorted({o for o in options if o.startswith(word)})
    if not hits:
        hits = sorted({o for o in options if o.lower().startswith(word.lower())})
    if not hits:
        return None
    if len(hits) == 1:
        text = hits[0] + suffix(hits[0])
    else:
        text = common_prefix(hits)
        if len(text) <= len(word):  # nothing to add: show what there is
            return Completion(value, end, tuple(hits))
    new = value[:start] + text + value[end:]
    return Completion(new, start + len(text), tuple(hits) if len(hits) > 1 else ())


def _word_at(value: str, cursor: int) -> tuple[int, str]:
    start = cursor
    while start > 0 and not value[start - 1].isspace():
        start -= 1
    return start, value[start:cursor]


def complete(app: NanobotApp, value: str, cursor: int) -> Completion | None:
    start, word = _word_at(value, cursor)
    if word.startswith("@"):
        return _path(app, value, start, cursor, word)
    head = value[:cursor]
    if not head.startswith("/") or head.startswith("//"):
        return None
    if start == 0:  # the command itself
        names = [f"/{c.name}" for c in slash.commands()]
        return _choose(value, 0, cursor, word, names, lambda _: " ")
    name = head[1:].split(None, 1)[0].lower()
    if head[1:].split(None, 1)[0] != head[1:start].strip():
        return None  # beyond the first argument
    cmd = next((c for c in slash.commands() if c.name == name), None)
    if cmd is None:
        return None
    source = ARGUMENTS.get(name)
    options = source(app) if source is not None else [v for v in cmd.palette if v]
    return _choose(value, start, cursor, word, options, lambda _: "")


def _path(app: NanobotApp, value: str, start: int, cursor: int, word: str) -> Completion | None:
    """``@dir/fi`` → ``@dir/file.py``; directories end in ``/`` so Tab can go on inside them."""
    root = Path(app.session.options.workspace)
    typed = word[1:]
    folder, _, leaf = typed.rpartition("/")
    base = (root / folder) if folder else root
    try:
        base.resolve().relative_to(root.resolve())
    except ValueError:
        return None  # outside the workspace: the file tools would refuse it anyway
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name)[:MAX_PATHS]
    except OSError:
        return None
    options = []
    for entry in entries:
        if entry.name.startswith(".") and not leaf.startswith("."):
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        options.append("@" + (f"{folder}/" if folder else "") + entry.name
                       + ("/" if is_dir else ""))
    return _choose(value, start, cursor, word, options,
                   lambda hit: "" if hit.endswith("/") else " ")
