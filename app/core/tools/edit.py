"""Tools that change files in the workspace: ``write_file`` and ``edit_file`` (exact replace).

Both write atomically (temp file + rename inside the directory's descriptor, the old mode kept, a
new file's mode from the umask; see :mod:`confined`) and describe the change as a unified diff:
the permission prompt shows it before, and the result carries it after.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
from pathlib import Path
from typing import Any

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult, resolve_in_workspace
from app.core.tools.confined import open_regular, write_beneath
from app.core.tools.labels import label_for

MAX_DIFF_LINES = 200
_IDENT = re.compile(r"[A-Za-z_]\w*")
MAX_EDIT_BYTES = 20_000_000


def _rel(ctx: ToolContext, p: Path) -> str:
    try:
        return str(p.relative_to(ctx.workspace.resolve())) or "."
    except ValueError:
        return str(p)


def unified_diff(old: str, new: str, rel: str, *, limit: int = MAX_DIFF_LINES) -> str:
    """A unified diff of ``old`` → ``new``; long diffs keep their head and say how much was left."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(),
                                      fromfile=f"a/{rel}", tofile=f"b/{rel}", lineterm=""))
    if len(lines) > limit:
        rest = len(lines) - limit
        lines = [*lines[:limit], f"… {rest} more diff lines"]
    return "\n".join(lines)


def _read_text(root: Path, path: Path, rel: str) -> str:
    try:
        with open_regular(root, path, rel) as fh:
            data = fh.read(MAX_EDIT_BYTES + 1)
    except OSError as exc:
        raise ToolError(f"cannot read {rel}: {exc.strerror or exc}") from exc
    if b"\x00" in data[:8192]:
        raise ToolError(f"{rel} is a binary file; it cannot be edited as text")
    if len(data) > MAX_EDIT_BYTES:
        raise ToolError(f"{rel} is {len(data):,} bytes; too large to edit here")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{rel} is not UTF-8 text; it cannot be edited safely") from exc


def _target(ctx: ToolContext, raw: Any) -> tuple[Path, str]:
    path = resolve_in_workspace(ctx.workspace, raw if isinstance(raw, str) else "")
    rel = _rel(ctx, path)
    if path.is_dir():
        raise ToolError(f"{rel} is a directory")
    return path, rel


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def protected(args: dict[str, Any], workspace: Path) -> str:
    """Why a write needs a question whatever the policy: files under ``.git/`` decide what git
    runs (hooks, ``core.fsmonitor``, aliases), so writing them is running code."""
    raw = args.get("path")
    if not isinstance(raw, str):
        return ""
    try:
        path = resolve_in_workspace(workspace, raw)
    except ToolError:
        return ""
    rel = os.path.relpath(path, workspace.resolve())
    if ".git" in Path(rel).parts:
        return "This changes git's own files, which decide what git runs (hooks, config)."
    return ""


class WriteFile:
    mutates = True  # a success invalidates the loop's identical-call cache
    spec = ToolSpec(
        name="write_file",
        description="Create or overwrite a file in the workspace with the given content.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "file path relative to the workspace"},
                "content": {"type": "string", "description": "the complete new file content"},
            },
            "required": ["path", "content"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("write_file", args)

    def must_ask(self, args: dict[str, Any], workspace: Path) -> str:
        return protected(args, workspace)

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        path, rel = _target(ctx, args.get("path"))
        new = str(args.get("content", ""))
        if not _exists(path):
            return unified_diff("", new, rel)
        return unified_diff(_read_text(ctx.workspace.resolve(), path, rel), new, rel)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._write, args, ctx)

    def _write(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path, rel = _target(ctx, args.get("path"))
        content = str(args.get("content", ""))
        root = ctx.workspace.resolve()
        existed = _exists(path)
        old = _read_text(root, path, rel) if existed else ""
        write_beneath(root, path, content.encode("utf-8"), rel)
        n_lines = content.count("\n") + (1 if content and not content.endswith("\n") else 0)
        verb = "Overwrote" if existed else "Created"
        head = f"{verb} {rel} ({n_lines} lines, {len(content.encode('utf-8'))} bytes)."
        diff = unified_diff(old, content, rel) if existed else ""
        if existed and old == content:
            head = f"{rel} already had exactly this content; nothing changed."
        return ToolResult(f"{head}\n{diff}".rstrip(), meta={"path": rel, "diff": diff})


class EditFile:
    mutates = True  # a success invalidates the loop's identical-call cache
    spec = ToolSpec(
        name="edit_file",
        description="Replace an exact piece of text in a file with new text (old_text must match "
                    "exactly once unless replace_all is true).",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "file path relative to the workspace"},
                "old_text": {"type": "string", "description": "the exact text to replace"},
                "new_text": {"type": "string", "description": "the replacement text"},
                "replace_all": {"type": "boolean",
                                "description": "replace every occurrence (default false)"},
            },
            "required": ["path", "old_text", "new_text"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("edit_file", args)

    def must_ask(self, args: dict[str, Any], workspace: Path) -> str:
        return protected(args, workspace)

    def _plan(self, args: dict[str, Any], ctx: ToolContext) -> tuple[Path, str, str, str, int]:
        path, rel = _target(ctx, args.get("path"))
        if not _exists(path):
            raise ToolError(f"file not found: {rel} (use write_file to create it)")
        old_text, new_text = str(args.get("old_text", "")), str(args.get("new_text", ""))
        if not old_text:
            raise ToolError("old_text is empty; give the exact text to replace")
        text = _read_text(ctx.workspace.resolve(), path, rel)
        if old_text == new_text:
            raise ToolError("old_text and new_text are the same; nothing would change")
        if _IDENT.fullmatch(old_text) and _IDENT.fullmatch(new_text):
            # One name for another is a rename: every whole-word occurrence changes, or the file
            # is left half-renamed (a definition renamed, its callers not).
            pattern = re.compile(rf"(?<![\w]){re.escape(old_text)}(?![\w])")
            count = len(pattern.findall(text))
            if count:
                return path, rel, text, pattern.sub(new_text, text), count
        count = text.count(old_text)
        if count == 0:
            raise ToolError(self._not_found(text, old_text, rel))
        if count > 1 and not args.get("replace_all"):
            starts = [i for i in range(len(text)) if text.startswith(old_text, i)][:5]
            where = ", ".join(str(text.count("\n", 0, i) + 1) for i in starts)
            raise ToolError(f"old_text occurs {count} times in {rel} (lines {where}); include more "
                            "surrounding text to pick one, or set replace_all to true")
        new = text.replace(old_text, new_text) if args.get("replace_all") else \
            text.replace(old_text, new_text, 1)
        return path, rel, text, new, count if args.get("replace_all") else 1

    @staticmethod
    def _not_found(text: str, old_text: str, rel: str) -> str:
        """Say where the closest text is, with line numbers, so the next try can copy it."""
        lines = text.splitlines()
        want = [ln for ln in old_text.splitlines() if ln.strip()] or [old_text]
        span = len(want)
        target = "\n".join(ln.strip() for ln in want)
        best, best_at = 0.0, -1
        for i in range(max(1, len(lines) - span + 1)):
            window = "\n".join(ln.strip() for ln in lines[i:i + span])
            score = difflib.SequenceMatcher(None, target, window, autojunk=False).ratio()
            if score > best:
                best, best_at = score, i
        if best_at < 0 or best < 0.3:
            return (f"old_text was not found in {rel}, and nothing in it is close; read the file "
                    "and copy the exact text to replace")
        shown = "\n".join(f"{n:>4}: {ln}" for n, ln in enumerate(
            lines[best_at:best_at + span], start=best_at + 1))
        return (f"old_text was not found in {rel}. The closest text is at line {best_at + 1}:\n"
                f"{shown}\nCopy it exactly as it appears there (without the line numbers), "
                "including its indentation, as old_text.")

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        _, rel, old, new, _ = self._plan(args, ctx)
        return unified_diff(old, new, rel)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return await asyncio.to_thread(self._edit, args, ctx)

    def _edit(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path, rel, old, new, n = self._plan(args, ctx)
        write_beneath(ctx.workspace.resolve(), path, new.encode("utf-8"), rel)
        diff = unified_diff(old, new, rel)
        plural = "s" if n != 1 else ""
        old_text, new_text = str(args.get("old_text", "")), str(args.get("new_text", ""))
        head = (f"Renamed {old_text} to {new_text} in {rel} ({n} occurrence{plural})."
                if _IDENT.fullmatch(old_text) and _IDENT.fullmatch(new_text)
                else f"Edited {rel} ({n} replacement{plural}).")
        return ToolResult(f"{head}\n{diff}",
                          meta={"path": rel, "diff": diff})
