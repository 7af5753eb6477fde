"""File tools confined to the workspace: ``read_file`` and ``list_dir``.

``read_file`` also opens the ``@outN`` handles the Context Gate gives for oversized exec and web
output, which live in the session's cache directory rather than in the workspace. Files and
directories are opened through the workspace's descriptor (see :mod:`confined`), so a symlink
swapped in after the check cannot lead outside, and only regular files are read.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult, resolve_in_workspace
from app.core.tools.confined import open_dir, open_regular
from app.core.tools.labels import label_for

# Whole-file reads stop here (with a visible note); ranged reads stream and have no limit.
MAX_READ_BYTES = 50_000_000
MAX_LIST_ENTRIES = 500


def _rel(ctx: ToolContext, p: Path) -> str:
    try:
        return str(p.relative_to(ctx.workspace.resolve())) or "."
    except ValueError:
        return str(p)


def parse_lines(spec: str) -> tuple[int, int | None]:
    """``"a:b"`` (1-based, inclusive), ``"a:"`` or ``"a"``."""
    try:
        if ":" in spec:
            a, b = spec.split(":", 1)
            start = int(a) if a.strip() else 1
            end = int(b) if b.strip() else None
        else:
            start = end = int(spec)
    except ValueError as exc:
        raise ToolError(f"lines must look like '10:50', got {spec!r}") from exc
    if start < 1 or (end is not None and end < start):
        raise ToolError(f"bad line range {spec!r}")
    return start, end


class ReadFile:
    read_only = True  # changes nothing: a branch may use it
    spec = ToolSpec(
        name="read_file",
        description="Read a text file in the workspace, optionally only some lines.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "file path relative to the workspace"},
                "lines": {"type": "string",
                          "description": "optional line range, e.g. '1:40' (1-based, inclusive)"},
            },
            "required": ["path"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("read_file", args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raw = args.get("path", "")
        lines = args.get("lines")
        if isinstance(raw, str) and raw.strip().startswith("@"):
            handle = raw.strip()
            cached = ctx.gate.resolve(handle) if ctx.gate is not None else None
            if cached is None:
                raise ToolError(f"unknown output handle {handle!r} (handles look like @out1 and "
                                "last for this session)")
            return await asyncio.to_thread(self._read, ctx, cached,
                                           str(lines) if lines else None, handle)
        path = resolve_in_workspace(ctx.workspace, raw)
        return await asyncio.to_thread(self._read, ctx, path, str(lines) if lines else None)

    def _read(self, ctx: ToolContext, path: Path, lines: str | None,
              shown_as: str = "") -> ToolResult:
        rel = shown_as or _rel(ctx, path)
        root = None if shown_as else ctx.workspace.resolve()
        note = ""
        try:
            with open_regular(root, path, rel) as fh:
                size = os.fstat(fh.fileno()).st_size
                head = fh.read(8192)
                if b"\x00" in head:
                    return ToolResult(f"[binary file: {rel}, {size} bytes]")
                if lines and not re.fullmatch(r"\s*\d*\s*(?::\s*\d*\s*)?", lines):
                    # Not a range at all (a small model's call wrote its JSON into it): the
                    # whole file has the lines it wanted; an error made it send the same again.
                    note = f"(lines={lines[:40]!r} is not a range like '10:50'; the whole file:)\n"
                    lines = None
                if lines:
                    start, end = parse_lines(lines)
                    fh.seek(0)
                    return self._range(fh, rel, start, end)
                data = head + fh.read(MAX_READ_BYTES - len(head))
        except PermissionError as exc:
            raise ToolError(f"permission denied: {rel}") from exc
        except OSError as exc:
            raise ToolError(f"cannot read {rel}: {exc.strerror or exc}") from exc
        text = note + data.decode("utf-8", errors="replace")
        if size > len(data):
            text += (f"\n[read_file stopped after {len(data):,} of {size:,} bytes; "
                     f"use lines=\"a:b\" to read further]")
        return ToolResult(text, meta={"path": rel, "bytes": size, "source": str(path)})

    @staticmethod
    def _range(fh: BinaryIO, rel: str, start: int, end: int | None) -> ToolResult:
        chosen: list[str] = []
        total = 0
        for total, raw in enumerate(fh, start=1):
            if total >= start and (end is None or total <= end):
                chosen.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        text = "\n".join(chosen)
        if start > total:
            text = f"[{rel} has only {total} lines]"
        return ToolResult(text, meta={"path": rel, "lines": [start, end], "total_lines": total})


class ListDir:
    read_only = True  # changes nothing: a branch may use it
    spec = ToolSpec(
        name="list_dir",
        description="List the entries of a directory in the workspace ('.' is the workspace root).",
        parameters={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "directory, default '.'"}},
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return label_for("list_dir", args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = resolve_in_workspace(ctx.workspace, args.get("path") or ".")
        return await asyncio.to_thread(self._list, ctx, path)

    def _list(self, ctx: ToolContext, path: Path) -> ToolResult:
        rel = _rel(ctx, path)
        try:
            with open_dir(ctx.workspace.resolve(), path, rel) as fd:
                found = [(e.name, e.is_dir(follow_symlinks=False)) for e in os.scandir(fd)]
        except PermissionError as exc:
            raise ToolError(f"permission denied: {rel}") from exc
        entries = sorted(found, key=lambda e: (not e[1], e[0]))
        lines = [f"{name}/" if is_dir else name for name, is_dir in entries[:MAX_LIST_ENTRIES]]
        if len(entries) > MAX_LIST_ENTRIES:
            lines.append(f"… and {len(entries) - MAX_LIST_ENTRIES} more entries")
        return ToolResult("\n".join(lines) if lines else "(empty directory)",
                          meta={"path": rel, "count": len(entries)})


def default_tools() -> list[Any]:
    return [ReadFile(), ListDir()]
