"""Finding things in the workspace: ``glob`` (file names) and ``grep`` (file contents).

Both walk the tree without following symlinks, skip the usual bulky folders (.git, .venv,
node_modules, caches) and what the workspace's ``.gitignore`` files exclude (the rules of
:mod:`app.core.context_store.ignore_rules`, as ingest uses) unless asked for them by name, and
never report a path whose real location is outside the workspace. Patterns run on RE2 (linear time,
see :mod:`safe_regex`) in a worker thread, so neither a pathological regex nor a pathological glob
can stall the app, and a cancel is seen between files and every few thousand lines.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core.context_store.ignore_rules import IgnoreRules
from app.core.providers.base import ToolSpec
from app.core.tools.base import (
    ToolContext,
    ToolError,
    ToolResult,
    decoded_path,
    resolve_in_workspace,
)
from app.core.tools.confined import open_regular
from app.core.tools.labels import label_for
from app.core.tools.safe_regex import Regex, RegexError, compile_text, escape, is_valid_python

SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
             ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", "dist", "build"}
MAX_GLOB_RESULTS = 500
MAX_GREP_MATCHES = 200
# A comparison written into a pattern ("qty < 12", "age>=30"): a query, not text in a file.
_COMPARISON = re.compile(r"\w\s*(?:<=?|>=?|==|!=)\s*\d")
MAX_GREP_FILE_BYTES = 20_000_000
MAX_LINE = 200


def glob_regex(pattern: str) -> Regex[str]:
    """Translate a glob with ``**`` into a regex over '/'-separated relative paths."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                cls = "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                try:
                    re.compile(cls)
                except re.error:  # "[]", "[z-a]", "[!]": git matches nothing; take it literally
                    out.append(re.escape(ch))
                    i += 1
                    continue
                out.append(cls)
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    try:
        return compile_text("".join(out) + r"\z")
    except RegexError as exc:
        raise ToolError(f"bad glob pattern {pattern!r}: {exc}") from None


def _check_pattern(pattern: str) -> None:
    decoded = decoded_path(pattern)
    for text in (pattern, decoded):
        if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", text):
            raise ToolError(f"pattern {pattern!r} must be relative to the workspace; refused")
        if ".." in re.split(r"[\\/]", text):
            raise ToolError(f"pattern {pattern!r} climbs out of the workspace ('..'); refused")


def _rules_down_to(root: Path, base: Path) -> IgnoreRules:
    """The ignore rules in force at ``base``: those of every directory from ``root`` down."""
    rules = IgnoreRules().with_dir("", root)
    try:
        parts = base.relative_to(root).parts
    except ValueError:
        return rules
    for i in range(1, len(parts) + 1):
        rules = rules.with_dir("/".join(parts[:i]), root.joinpath(*parts[:i]))
    return rules


def walk_files(root: Path, base: Path, *, named: str = "") -> Iterator[Path]:
    """Files under ``base`` (inside ``root``), not following symlinks out of the workspace, minus
    what the workspace's ``.gitignore`` files exclude (a directory the pattern names by name is
    searched all the same, like the bulky folders of SKIP_DIRS)."""
    if base.is_file():
        yield base
        return
    rules_at = {str(base): _rules_down_to(root, base)}
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        rules = rules_at.pop(dirpath, IgnoreRules())
        rel_dir = _rel(root, Path(dirpath))
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for d in sorted(dirnames):
            ignored = d in SKIP_DIRS or rules.ignored(prefix + d, True)
            if ignored and d not in named:
                continue
            kept.append(d)
            # A directory searched because it was named: the rules that excluded it do not
            # apply inside it (its own .gitignore files still do).
            parent = IgnoreRules() if ignored else rules
            rules_at[os.path.join(dirpath, d)] = parent.with_dir(prefix + d, Path(dirpath, d))
        dirnames[:] = kept
        for name in sorted(filenames):
            if rules.ignored(prefix + name, False):
                continue
            p = Path(dirpath) / name
            if p.is_symlink():
                real = Path(os.path.realpath(p))
                if real != root and root not in real.parents:
                    continue
            yield p


def _rel(root: Path, p: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


class Glob:
    read_only = True  # changes nothing: a branch may use it
    spec = ToolSpec(
        name="glob",
        description="Find files by name pattern, e.g. '*.py' (any depth) or 'src/**/*.ts'.",
        parameters={
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "glob pattern; '*.py' matches at "
                                                             "any depth, 'src/*.py' only in src"},
                "path": {"type": "string", "description": "directory to search, default '.'"},
            },
            "required": ["pattern"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("glob", args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        pattern = str(args.get("pattern") or "").strip()
        if not pattern:
            raise ToolError("pattern is required, e.g. '*.py'")
        _check_pattern(pattern)
        base = resolve_in_workspace(ctx.workspace, str(args.get("path") or "."))
        return await asyncio.to_thread(self._glob, ctx, base, pattern)

    def _glob(self, ctx: ToolContext, base: Path, pattern: str) -> ToolResult:
        root = ctx.workspace.resolve()
        if not base.exists():
            raise ToolError(f"directory not found: {_rel(root, base)}")
        by_name = "/" not in pattern
        rx = glob_regex(pattern)
        hits: list[str] = []
        total = 0
        for p in walk_files(root, base, named=pattern):
            if ctx.cancel.cancelled:
                break
            rel_base = p.relative_to(base).as_posix() if base.is_dir() else p.name
            if rx.match(p.name if by_name else rel_base):
                total += 1
                if len(hits) < MAX_GLOB_RESULTS:
                    hits.append(_rel(root, p))
        if not hits:
            return ToolResult(f"no files match {pattern!r}", meta={"count": 0})
        text = "\n".join(hits)
        if total > len(hits):
            text += f"\n… and {total - len(hits)} more files (narrow the pattern)"
        return ToolResult(text, meta={"count": total})


def split_glob_path(path: str) -> tuple[str, str]:
    """("meetings", "*.md") for "meetings/*.md", (".", "**/*.py") for "**/*.py": the folder
    before the first component with a wildcard, and the glob of the rest."""
    parts = path.strip().removeprefix("./").split("/")
    at = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
    folder = "/".join(parts[:at]) or "."
    rest = "/".join(parts[at:])
    # A glob with a folder in it is matched against workspace-relative paths.
    return folder, (f"{folder}/{rest}" if "/" in rest and folder != "." else rest)


class Grep:
    read_only = True  # changes nothing: a branch may use it
    spec = ToolSpec(
        name="grep",
        description="Search file contents for a regular expression; prints path:line: text.",
        parameters={
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "regular expression to search for"},
                "path": {"type": "string", "description": "file or directory, default '.'"},
                "glob": {"type": "string", "description": "only files matching, e.g. '*.py'"},
                "ignore_case": {"type": "boolean", "description": "case-insensitive match"},
            },
            "required": ["pattern"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("grep", args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        pattern = str(args.get("pattern") or "")
        if not pattern:
            raise ToolError("pattern is required")
        file_glob = str(args.get("glob") or "")
        path = str(args.get("path") or ".")
        if not file_glob and any(c in path for c in "*?["):
            # A glob given as the path ("meetings/*.md", as a shell would take it): the folder
            # before its first wildcard is searched, for the files the rest matches.
            path, file_glob = split_glob_path(path)
        if file_glob:
            _check_pattern(file_glob)
        base = resolve_in_workspace(ctx.workspace, path)
        ignore_case = bool(args.get("ignore_case"))
        note = ""
        try:
            rx = compile_text(pattern, ignore_case=ignore_case)
        except RegexError as exc:
            if is_valid_python(pattern):
                raise ToolError(str(exc)) from None  # a feature RE2 lacks: say so
            rx = compile_text(escape(pattern), ignore_case=ignore_case)
            note = f"(not a valid regular expression ({exc}); searched for the literal text)\n"
        return await asyncio.to_thread(self._grep, ctx, base, rx, file_glob, note)

    def _grep(self, ctx: ToolContext, base: Path, rx: Regex[str], file_glob: str,
              note: str) -> ToolResult:
        root = ctx.workspace.resolve()
        if not base.exists():
            raise ToolError(f"path not found: {_rel(root, base)}")
        name_rx = glob_regex(file_glob) if file_glob else None
        out: list[str] = []
        total = skipped = 0
        for p in walk_files(root, base):
            if ctx.cancel.cancelled:
                break
            if name_rx and not name_rx.match(p.name if "/" not in file_glob else _rel(root, p)):
                continue
            try:
                with open_regular(root, Path(os.path.realpath(p)), _rel(root, p)) as fh:
                    if os.fstat(fh.fileno()).st_size > MAX_GREP_FILE_BYTES:
                        skipped += 1
                        continue
                    data = fh.read()
            except (OSError, ToolError):
                skipped += 1  # unreadable, not a regular file, or swapped for a symlink
                continue
            if b"\x00" in data[:8192]:
                continue
            rel = _rel(root, p)
            for no, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if no % 4096 == 0 and ctx.cancel.cancelled:
                    break
                if rx.search(line):
                    total += 1
                    if len(out) < MAX_GREP_MATCHES:
                        text = line if len(line) <= MAX_LINE else line[:MAX_LINE] + "…"
                        out.append(f"{rel}:{no}: {text}")
        if not out:
            body = f"no matches for {rx.pattern!r}"
            if _COMPARISON.search(rx.pattern):
                # Small models grep "qty < 12" as if it were a query, then answer "no items".
                body += (" (grep matches text; it does not compare values: to count or compare "
                         "values, read the file or compute it with a short program)")
        else:
            body = "\n".join(out)
            if total > len(out):
                body += f"\n… and {total - len(out)} more matches (narrow the pattern or path)"
        if skipped:
            body += f"\n({skipped} unreadable or very large files skipped)"
        return ToolResult(note + body, meta={"matches": total})
