"""File tools confined to the workspace: ``read_file`` and ``list_dir``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult, resolve_in_workspace

MAX_READ_BYTES = 2_000_000
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
        return f"Reading {args.get('path', '?')}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = resolve_in_workspace(ctx.workspace, args.get("path", ""))
        lines = args.get("lines")
        return await asyncio.to_thread(self._read, ctx, path, str(lines) if lines else None)

    def _read(self, ctx: ToolContext, path: Path, lines: str | None) -> ToolResult:
        rel = _rel(ctx, path)
        if not path.exists():
            raise ToolError(f"file not found: {rel}")
        if path.is_dir():
            raise ToolError(f"{rel} is a directory; use list_dir")
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(8192)
                if b"\x00" in head:
                    return ToolResult(f"[binary file: {rel}, {size} bytes]")
                data = head + fh.read(MAX_READ_BYTES)
        except PermissionError as exc:
            raise ToolError(f"permission denied: {rel}") from exc
        text = data.decode("utf-8", errors="replace")
        if lines:
            start, end = parse_lines(lines)
            all_lines = text.splitlines()
            chosen = all_lines[start - 1: end]
            return ToolResult("\n".join(chosen), meta={"path": rel, "lines": [start, end]})
        return ToolResult(text, meta={"path": rel, "bytes": size})


class ListDir:
    spec = ToolSpec(
        name="list_dir",
        description="List the entries of a directory in the workspace ('.' is the workspace root).",
        parameters={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "directory, default '.'"}},
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        return f"Listing {args.get('path') or '.'}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = resolve_in_workspace(ctx.workspace, args.get("path") or ".")
        return await asyncio.to_thread(self._list, ctx, path)

    def _list(self, ctx: ToolContext, path: Path) -> ToolResult:
        rel = _rel(ctx, path)
        if not path.exists():
            raise ToolError(f"directory not found: {rel}")
        if not path.is_dir():
            raise ToolError(f"{rel} is not a directory")
        try:
            entries = sorted(path.iterdir(), key=lambda p: (not p.is_dir(), p.name))
        except PermissionError as exc:
            raise ToolError(f"permission denied: {rel}") from exc
        lines = [f"{e.name}/" if e.is_dir() else e.name for e in entries[:MAX_LIST_ENTRIES]]
        if len(entries) > MAX_LIST_ENTRIES:
            lines.append(f"… and {len(entries) - MAX_LIST_ENTRIES} more entries")
        return ToolResult("\n".join(lines) if lines else "(empty directory)",
                          meta={"path": rel, "count": len(entries)})


def default_tools() -> list[Any]:
    return [ReadFile(), ListDir()]
