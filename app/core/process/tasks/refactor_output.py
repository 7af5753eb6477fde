"""A refactor's output for review: a patch series, and for a git repository a branch.

``output/patches/NNNN-<file>.patch`` holds one file's change each (``git apply`` or ``patch -p1``
take them, singly or as ``all.patch``), listed in ``series``; ``summary.json`` has the counts. In
a git repository the branch (``nanobot/<process id>`` unless ``branch`` says otherwise) gets one
commit per file on top of the commit the refactor read, made with git's plumbing: the working
tree, the index and the checked-out branch are never touched. A branch that exists and was not
made by this process is left alone.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.process.task import TaskError
from app.core.process.tasks.refactor_plan import git, lines_of
from app.core.settings.paths import atomic_write_text

TRAILER = "Nanobot-Process"


def _patch(path: str, old: str, new: str) -> str:
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in difflib.unified_diff(lines_of(old), lines_of(new),
                                     f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _slug(path: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in path)[:80]


def write_refactor_output(task: Any, decisions: Iterable[tuple[int, Any]], directory: Path,
                          process_id: str) -> list[str]:
    by_file: dict[str, list[tuple[int, int, str]]] = {}
    steps = 0
    for step, text in decisions:
        loc = task.locations[step]
        by_file.setdefault(loc.path, []).append((loc.start, loc.end, text))
        steps += 1
    changed: list[tuple[str, str, str]] = []  # (path, old, new)
    for path in sorted(by_file):
        old = "".join(task.original(path))
        changed.append((path, old, "".join(task.current(path, by_file[path]))))
    patches = directory / "patches"
    patches.mkdir(parents=True, exist_ok=True)
    for stale in patches.glob("*.patch"):
        stale.unlink()
    names = []
    for n, (path, old, new) in enumerate(changed, 1):
        name = f"{n:04d}-{_slug(path)}.patch"
        (patches / name).write_text(_patch(path, old, new), encoding="utf-8")
        names.append(name)
    atomic_write_text(patches / "series", "".join(f"{n}\n" for n in names))
    atomic_write_text(directory / "all.patch",
                      "".join(_patch(path, old, new) for path, old, new in changed))
    summary = {"process": process_id, "recipe": task.recipe.name, "base": task.source.commit,
               "decided": steps, "places": len(task.locations), "files_changed": len(changed),
               "files_scanned": task.plan.files, "skipped": task.plan.skipped_counts}
    lines = [f"patches: {patches} ({len(changed)} files, {steps:,} of {len(task.locations):,} "
             f"places); all in one: {directory / 'all.patch'}"]
    branch = task.branch or f"nanobot/{process_id}"
    if task.source.commit and branch != "-" and changed:
        try:
            tip = _write_branch(task, branch, changed, process_id)
            summary["branch"] = branch
            summary["branch_tip"] = tip
            lines.append(f"branch: {branch} ({len(changed)} commits on "
                         f"{task.source.commit[:12]}, tip {tip[:12]}) in {task.root}")
        except TaskError as exc:
            lines.append(f"branch {branch} not written: {exc}")
    atomic_write_text(directory / "summary.json", json.dumps(summary, indent=1) + "\n")
    return lines


def _identity_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var, key, fallback in (("NAME", "user.name", "nanobot"),
                               ("EMAIL", "user.email", "nanobot@localhost")):
        try:
            value = git(root, "config", key).decode().strip()
        except TaskError:
            value = ""
        for who in ("AUTHOR", "COMMITTER"):
            env.setdefault(f"GIT_{who}_{var}", value or fallback)
    return env


def _write_branch(task: Any, branch: str, changed: list[tuple[str, str, str]],
                  process_id: str) -> str:
    root: Path = task.root
    ref = f"refs/heads/{branch}"
    git(root, "check-ref-format", ref)
    try:
        existing = git(root, "rev-parse", "--verify", "--quiet", ref).decode().strip()
    except TaskError:
        existing = ""
    if existing:
        message = git(root, "log", "-1", "--format=%B", existing).decode()
        if f"{TRAILER}: {process_id}" not in message:
            raise TaskError(f"{branch} exists and was not made by process {process_id}; "
                            "pass --param branch=NAME for another")
    env = _identity_env(root)
    with tempfile.TemporaryDirectory(prefix="nanobot-index-") as tmp:
        env["GIT_INDEX_FILE"] = str(Path(tmp) / "index")
        git(root, "read-tree", task.source.commit, env=env)
        parent = task.source.commit
        for n, (path, _old, new) in enumerate(changed, 1):
            blob = git(root, "hash-object", "-w", "--stdin", data=new.encode("utf-8"),
                       env=env).decode().strip()
            git(root, "update-index", "--cacheinfo", f"{task.source.mode(path)},{blob},{path}",
                env=env)
            tree = git(root, "write-tree", env=env).decode().strip()
            message = (f"{task.recipe.title}: {path}\n\n"
                       f"File {n} of {len(changed)} of nanobot process {process_id}: every place "
                       "was edited by a model, decided by first-to-ahead-by-k votes and checked "
                       f"before it was kept.\n\n{TRAILER}: {process_id}\n")
            parent = git(root, "commit-tree", tree, "-p", parent, data=message.encode(),
                         env=env).decode().strip()
    git(root, "update-ref", ref, parent)
    return str(parent)
