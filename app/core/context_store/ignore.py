"""Which files an ingest takes: the ``.gitignore`` rules of :mod:`app.core.context_store.ignore_rules`, plus
directories nobody wants indexed. An entry that cannot be read is reported and skipped; the walk
goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.core.context_store.ignore_rules import IGNORE_FILES, IgnoreRules

# Never worth reading: version control, caches, virtualenvs, dependency trees.
DEFAULT_IGNORED_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".venv", "venv", "node_modules", ".tox", ".idea", ".cache",
})


@dataclass
class WalkReport:
    ignored: int = 0
    special: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    bad_rules: list[str] = field(default_factory=list)  # ignore lines that match nothing


def walk_tree(root: Path, report: WalkReport) -> Iterator[Path]:
    """Regular files under ``root`` in sorted order, minus ignored ones; symlinks are not followed
    into directories (a link loop would never end)."""
    yield from _walk(root, "", _rules(IgnoreRules(), "", root, report), report)


def _rules(parent: IgnoreRules, rel: str, directory: Path, report: WalkReport) -> IgnoreRules:
    rules = parent.with_dir(rel, directory)
    report.bad_rules += [line for line in rules.bad_lines if line not in report.bad_rules]
    return rules


def _walk(directory: Path, rel: str, stack: IgnoreRules, report: WalkReport) -> Iterator[Path]:
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
            yield from _walk(sub, child_rel, _rules(stack, child_rel, sub, report), report)
        elif is_file:
            if stack.ignored(child_rel, False) or entry.name in IGNORE_FILES:
                report.ignored += 1
                continue
            yield Path(entry.path)
        elif _is_symlink(entry):
            if os.path.isdir(entry.path):
                report.ignored += 1  # a linked directory is not followed
            else:
                report.unreadable.append((entry.path, "broken symbolic link"))
        else:
            report.special.append(entry.path)


def _is_symlink(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False
