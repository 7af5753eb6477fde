"""One-line human labels for tool events ("Reading app/core/agent/session.py", "Running tests").

The conversation shows these whether or not the model narrates what it does. Labels are short,
single-line and never contain secrets (the caller redacts arguments first).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_LABEL = 72

_TEST_RUNNERS = re.compile(
    r"^(?:python3?\s+-m\s+)?(?:pytest|py\.test|tox|nox|unittest)\b|^(?:npm|pnpm|yarn)\s+(?:run\s+)?test\b"
    r"|^(?:cargo|go)\s+test\b|^make\s+(?:test|check)\b")
_INSTALLERS = re.compile(r"^(?:python3?\s+-m\s+)?pip3?\s+install\b|^(?:npm|pnpm|yarn)\s+(?:install|add)\b"
                         r"|^(?:apt-get|apt)\s+install\b|^cargo\s+add\b")


def _short(text: str, limit: int = MAX_LABEL) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _arg(args: dict[str, Any], key: str, default: str = "?") -> str:
    value = args.get(key)
    return _short(str(value), 56) if value not in (None, "") else default


def exec_label(command: str) -> str:
    """What a shell command does, in words, for the common cases."""
    first = command.strip().splitlines()[0] if command.strip() else ""
    cmd = first.strip()
    if _TEST_RUNNERS.search(cmd):
        return "Running tests"
    if _INSTALLERS.search(cmd):
        return "Installing packages"
    try:
        words = shlex.split(cmd)
    except ValueError:
        words = cmd.split()
    if words:
        prog = words[0].rsplit("/", 1)[-1]
        if prog in ("python", "python3", "node", "bash", "sh", "ruby") and len(words) > 1 \
                and not words[1].startswith("-"):
            return _short(f"Running {words[1]}")
        if prog == "git" and len(words) > 1:
            return _short(f"Running git {words[1]}")
        if prog in ("ls", "tree"):
            return "Listing files"
        if prog in ("cat", "head", "tail", "less") and len(words) > 1:
            return _short(f"Reading {words[-1]}")
    more = " …" if len(command.strip().splitlines()) > 1 else ""
    return _short(f"Running `{cmd}`{more}")


def _web_fetch(args: dict[str, Any]) -> str:
    url = str(args.get("url") or "")
    host = urlsplit(url).netloc or url
    return _short(f"Fetching {host or '?'}")


_LABELS: dict[str, Callable[[dict[str, Any]], str]] = {
    "read_file": lambda a: (f"Reading {_arg(a, 'path')}"
                            + (f" (lines {a['lines']})" if a.get("lines") else "")),
    "list_dir": lambda a: f"Listing {_arg(a, 'path', '.')}",
    "write_file": lambda a: f"Writing {_arg(a, 'path')}",
    "edit_file": lambda a: f"Editing {_arg(a, 'path')}",
    "glob": lambda a: f"Finding files {_arg(a, 'pattern')}",
    "grep": lambda a: f"Searching for {_arg(a, 'pattern')!s}"
                      + (f" in {a['path']}" if a.get("path") not in (None, "", ".") else ""),
    "exec": lambda a: exec_label(str(a.get("command") or "")),
    "web_fetch": _web_fetch,
    "web_search": lambda a: f"Searching the web for {_arg(a, 'query')}",
}


def label_for(name: str, args: dict[str, Any]) -> str:
    """The one-line label for a call to tool ``name`` (a generic one for unknown tools)."""
    fn = _LABELS.get(name)
    try:
        text = fn(args) if fn else f"Calling {name}"
    except Exception:  # a label must never break a turn, whatever the arguments look like
        text = f"Calling {name}"
    return _short(text)


def _count(text: str, unit: str) -> str:
    n = len([ln for ln in text.splitlines() if ln.strip()])
    return f"{n} {unit}{'' if n == 1 else 's'}"


def result_label(name: str, args: dict[str, Any], content: str, is_error: bool,
                 meta: dict[str, Any] | None = None) -> str:
    """The one-line outcome of a call ("Read app.py (120 lines)", "Ran hello.py: 1 line")."""
    meta = meta or {}
    first = next((ln.strip() for ln in content.splitlines() if ln.strip()), "")
    if is_error:
        return _short(first or "failed")
    if content.startswith("[") and "too large for the context window" in first:
        where = meta.get("gate_handle") or args.get("path") or "disk"
        return _short(f"{label_for(name, args)}: too large, briefed (full text in {where})")
    try:
        if name == "read_file":
            return _short(f"Read {_arg(args, 'path')} ({_count(content, 'line')})")
        if name == "list_dir":
            return _short(f"Listed {_arg(args, 'path', '.')} ({_count(content, 'entry')})"
                          .replace("entrys", "entries"))
        if name in ("write_file", "edit_file"):
            return _short(first)
        if name == "exec":
            what = exec_label(str(args.get("command") or "")).replace("Running", "Ran", 1)
            out = "no output" if content in ("", "(no output)") else _count(content, "line")
            return _short(f"{what}: {out}")
        if name == "python":
            out = "no output" if content.startswith("(no output") else _count(content, "line")
            return _short(f"Ran Python: {out}")
        if name == "glob":
            return _short(f"{_count(content, 'file')} found" if not first.startswith("no files")
                          else first)
        if name == "grep":
            return _short(f"{_count(content, 'match')} found".replace("matchs", "matches")
                          if not first.startswith("no matches") else first)
        if name == "web_fetch":
            return _short(f"Fetched {_web_fetch(args)[9:]}")
    except Exception:  # a label must never break a turn
        pass
    return _short(first or "Done")
