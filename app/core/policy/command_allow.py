"""When a command may run without a question: exactly one plain command that an allow entry covers.

A command is *plain* when it is nothing but words: no ``;``/``&&``/``|``, no ``$``/backticks, no
redirections (``2>&1`` aside), no assignments, no globs or braces, no ``~``, no backslashes, no
control characters, and a program named by a bare ASCII name. The grammar is strict on purpose:
every shell reads such a command the same way, so what was judged is what runs.

A plain command is allowed by an entry (``pytest``, ``git status``) when its words start with the
entry's words exactly, its program resolves on PATH (through absolute PATH entries only) to the same
file the bare name does, no option or subcommand makes the program do more than that (see
:mod:`arg_effects`), and no argument names a path outside the workspace. "Allow for this session"
adds such an entry, keyed on the words shown on the button.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.core.policy.arg_effects import effect
from app.core.policy.shell_parse import parse
from app.core.policy.shell_unwrap import SHELLS, WRAPPERS, is_interpreter

_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_PROGRAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
_SUBCOMMAND = re.compile(r"[a-z][a-z0-9-]*\Z")
# Programs that run other commands or code given as words: never allowed through a shorter entry.
_RUNS_OTHERS = set(WRAPPERS) | {"env", "eval", "exec", "command", "builtin", "source", ".",
                                "xargs", "sudo", "doas", "su", "alias", "trap", "watch"}
_WHY = [
    (re.compile(r"[;&|\n\r]"), "it runs several commands (;, &&, |, & or a newline)"),
    (re.compile(r"[$`]"), "it uses a $ or ` expansion"),
    (re.compile(r"[<>]"), "it redirects input or output"),
    (re.compile(r"[*?\[\]{}]"), "it uses a glob or brace pattern"),
    (re.compile(r"[()]"), "it uses a subshell"),
    (re.compile(r"~"), "it uses ~"),
    (re.compile(r"\\"), "it uses a backslash escape"),
    (re.compile(r"#"), "it has a # comment"),
    (re.compile(r"!"), "it uses !"),
    (re.compile(r"[\x00-\x08\x0b-\x1f\x7f]"), "it holds control characters"),
    (re.compile(r"[^\x00-\x7f]"), "it holds non-ASCII characters outside quotes"),
]


def _bad_char(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in "\t"


def plain_words(command: str) -> tuple[tuple[str, ...] | None, str]:
    """``(argv, "")`` for a plain command, ``(None, why)`` otherwise."""
    text = command.strip()
    if text.endswith(" 2>&1"):  # stdout and stderr are merged anyway
        text = text[:-5].rstrip()
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        cur: list[str] = []
        while i < n and text[i] not in " \t":
            ch = text[i]
            if ch in "'\"":
                end = text.find(ch, i + 1)
                body = text[i + 1:end] if end > 0 else ""
                if end < 0 or any(_bad_char(c) for c in body) or (
                        ch == '"' and re.search(r'[$`\\!]', body)):
                    return None, _reason(text[i:])
                cur.append(body)
                i = end + 1
                continue
            m = _SAFE.match(text, i)
            if not m:
                return None, _reason(text[i:])
            cur.append(m.group())
            i = m.end()
        words.append("".join(cur))
    if not words:
        return None, "it is empty"
    first = text.split(None, 1)[0]
    if "=" in first and not first.startswith(("'", '"')):
        return None, "it assigns variables for the command"
    if not _PROGRAM.match(first):
        return None, ("its program is given by a path" if "/" in words[0]
                      else "its program name is not a plain name")
    parsed = parse(text)  # a second opinion: the shell parser must see one plain command too
    if parsed.error or parsed.features or len(parsed.commands) != 1 or \
            parsed.commands[0].argv != tuple(words):
        return None, "the shell would read it differently"
    return tuple(words), ""


def _reason(rest: str) -> str:
    for rx, why in _WHY:
        if rx.search(rest[:1]) or rx.match(rest):
            return why
    for rx, why in _WHY:
        if rx.search(rest):
            return why
    return "it uses shell syntax beyond plain words"


def entry_words(entries: Iterable[str]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for e in entries:
        try:
            words = tuple(shlex.split(e))
        except ValueError:
            continue
        if words:
            out.append(words)
    return out


def resolve_program(name: str, path_env: str, workdir: Path) -> tuple[str, str]:
    """``(path, "")`` when ``name`` resolves to one file through absolute PATH entries and the
    whole PATH, read from ``workdir`` as the shell will (an empty or relative entry means a
    directory there), agrees; ``("", why)`` otherwise."""
    entries = path_env.split(os.pathsep)
    as_run = os.pathsep.join(p if os.path.isabs(p) else os.path.join(workdir, p) for p in entries)
    absolute = os.pathsep.join(p for p in entries if os.path.isabs(p))
    found = shutil.which(name, path=as_run)
    sure = shutil.which(name, path=absolute)
    if found is None:
        return "", f"{name} is not found on PATH"
    if sure is None or os.path.realpath(found) != os.path.realpath(sure):
        return "", f"{name} resolves through a relative PATH entry"
    return sure, ""


def _inside(root: Path, p: str) -> bool:
    real = Path(os.path.realpath(p))
    return real == root or root in real.parents


def path_outside(args: Sequence[str], workspace: Path, workdir: Path) -> str:
    """The first argument (or ``--opt=value``) naming a path outside the workspace."""
    root = Path(os.path.realpath(workspace))
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if arg.startswith("-") and "=" not in arg:
            continue
        if value in ("/dev/null", ""):
            continue
        escapes = value.startswith(("/", "~")) or ".." in value.split("/")
        if escapes and not _inside(root, os.path.join(workdir, value)):
            return value
    return ""


def covered(argv: Sequence[str], entry: Sequence[str], *, workspace: Path, workdir: Path,
            path_env: str) -> str:
    """"" when ``entry`` allows the plain command ``argv``; otherwise why it does not."""
    if tuple(argv[:len(entry)]) != tuple(entry):
        return f"it does not start with {' '.join(entry)!r}"
    name = argv[0]
    if name in _RUNS_OTHERS and len(entry) < len(argv):
        return f"{name} runs another command"
    _, why = resolve_program(name, path_env, workdir)
    if why:
        return why
    what = effect(name, argv[1:])
    if what:
        return f"{what}"
    outside = path_outside(argv[len(entry):], workspace, workdir)
    if outside:
        return f"the argument {outside!r} is outside the workspace"
    return ""


def session_prefix(argv: Sequence[str]) -> tuple[str, ...]:
    """The words "allow for this session" covers: the program and its subcommand (``git
    status``); the whole command for programs that run code or other commands."""
    name = argv[0]
    if name in _RUNS_OTHERS or name in SHELLS or is_interpreter(name) or effect(name, argv[1:]):
        return tuple(argv)
    words = [name]
    if len(argv) > 1 and _SUBCOMMAND.match(argv[1]):
        words.append(argv[1])
    return tuple(words)
