"""Which files an ingest takes: .gitignore-style rules, plus directories nobody wants indexed.

Supported: blank lines and ``#`` comments, ``!`` negation, a trailing ``/`` for directories only,
a leading or inner ``/`` anchoring the pattern to the .gitignore's directory, ``*``, ``?``,
``[...]`` and ``**``. Each directory's ``.gitignore`` (and ``.nanobotignore``) applies below it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

IGNORE_FILES = (".gitignore", ".nanobotignore")
# Never worth reading: version control, caches, virtualenvs, dependency trees.
DEFAULT_IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".venv", "venv", "node_modules", ".tox", ".idea", ".cache",
})


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
            else:
                body = glob[i + 1:j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        elif c == "\\" and i + 1 < len(glob):
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def parse_rules(text: str) -> list[Rule]:
    rules: list[Rule] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _glob_to_regex(line)
        pattern = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
        rules.append(Rule(re.compile(pattern), negate, dir_only))
    return rules


@dataclass
class IgnoreStack:
    """Rules from every .gitignore between the walk root and the current directory."""

    levels: list[tuple[str, list[Rule]]] = field(default_factory=list)

    def with_dir(self, rel_dir: str, directory: Path) -> IgnoreStack:
        rules: list[Rule] = []
        for name in IGNORE_FILES:
            f = directory / name
            if f.is_file():
                try:
                    rules += parse_rules(f.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    continue
        return IgnoreStack([*self.levels, (rel_dir, rules)]) if rules else self

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        verdict = False
        for base, rules in self.levels:
            if base:
                if not rel_path.startswith(base + "/"):
                    continue
                sub = rel_path[len(base) + 1:]
            else:
                sub = rel_path
            for rule in rules:
                if rule.dir_only and not is_dir:
                    continue
                if rule.regex.match(sub):
                    verdict = not rule.negate
        return verdict


@dataclass
class WalkReport:
    ignored: int = 0
    special: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def walk_tree(root: Path, report: WalkReport) -> Iterator[Path]:
    """Regular files under ``root`` in sorted order, minus ignored ones; symlinks are not followed
    into directories (a link loop would never end)."""
    yield from _walk(root, "", IgnoreStack().with_dir("", root), report)


def _walk(directory: Path, rel: str, stack: IgnoreStack, report: WalkReport) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        report.unreadable.append((str(directory), str(exc.strerror or exc)))
        return
    for entry in entries:
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file(follow_symlinks=True)
        except OSError as exc:
            report.unreadable.append((entry.path, str(exc.strerror or exc)))
            continue
        if is_dir:
            if entry.name in DEFAULT_IGNORED_DIRS or stack.ignored(child_rel, True):
                report.ignored += 1
                continue
            sub = Path(entry.path)
            yield from _walk(sub, child_rel, stack.with_dir(child_rel, sub), report)
        elif is_file:
            if stack.ignored(child_rel, False) or entry.name in IGNORE_FILES:
                report.ignored += 1
                continue
            yield Path(entry.path)
        elif entry.is_symlink():
            if os.path.isdir(entry.path):
                report.ignored += 1  # a linked directory is not followed
            else:
                report.unreadable.append((entry.path, "broken symbolic link"))
        else:
            report.special.append(entry.path)
