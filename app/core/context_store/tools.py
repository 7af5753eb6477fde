"""The agent's tools over volumes: ``ctx_search``, ``ctx_grep``, ``ctx_slice`` and ``ctx_info``.

Results are short text for the model plus structured ``meta`` for programs (the retrieval-first
planner, workers, the benchmark). Every tool names volume lines (1-based) that ``ctx_slice`` takes.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from app.core.context_store.describe import describe, one_line
from app.core.context_store.errors import VolumeError
from app.core.context_store.search import search
from app.core.context_store.store import VolumeStore
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult

MAX_SLICE_LINES = 200
MAX_SLICE_CHARS = 12_000
MAX_LINE_CHARS = 400
MAX_GREP_LINES = 200
MAX_K = 20


def _clip(text: str, limit: int = MAX_LINE_CHARS) -> str:
    text = text.rstrip("\r")
    return text if len(text) <= limit else text[:limit] + f"…[+{len(text) - limit} chars]"


def _int(args: dict[str, Any], key: str, default: int | None = None) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or value is None:
        raise ToolError(f"{key} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ToolError(f"{key} must be an integer, got {value!r}") from exc


class _CtxTool:
    read_only = True  # changes nothing: a branch may use it
    spec: ToolSpec

    def __init__(self, store: VolumeStore) -> None:
        self.store = store

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            return await asyncio.to_thread(self.call, args)
        except VolumeError as exc:
            raise ToolError(str(exc)) from exc

    def call(self, args: dict[str, Any]) -> ToolResult:
        raise NotImplementedError


def _volumes_note(names: list[str]) -> str:
    # Small models see tool descriptions but not parameter descriptions: name the volumes here.
    return f" Volumes: {', '.join(names)}." if names else ""


def _volume_param(names: list[str]) -> dict[str, Any]:
    hint = f" (one of: {', '.join(names)})" if names else ""
    return {"type": "string", "description": "volume name" + hint}


class CtxSearch(_CtxTool):
    def __init__(self, store: VolumeStore, names: list[str]) -> None:
        super().__init__(store)
        self.spec = ToolSpec(
            name="ctx_search",
            description="Search a volume (a large ingested text collection) for words; returns "
                        "the best chunks with file, volume line range and best line."
                        + _volumes_note(names),
            parameters={"type": "object", "properties": {
                "volume": _volume_param(names),
                "query": {"type": "string", "description": "words to look for"},
                "k": {"type": "integer", "description": "number of results, default 5"},
            }, "required": ["volume", "query"]})

    def label(self, args: dict[str, Any]) -> str:
        return f"Searching {args.get('volume', '?')} for {args.get('query', '')!r}"

    def call(self, args: dict[str, Any]) -> ToolResult:
        query = str(args.get("query") or "").strip()
        if not query:
            raise ToolError("query is required")
        k = max(1, min(_int(args, "k", 5), MAX_K))
        name = str(args.get("volume", ""))
        handle = self.store.get(name)
        hits = search(handle, query, k, self.store.dense(name))
        if not hits:
            return ToolResult(f"No chunk of '{handle.volume.name}' matches {query!r}. Try other "
                              "words, or ctx_grep for an exact string.", meta={"hits": []})
        out = []
        for h in hits:
            out.append(f"[{h.rank}] score {h.score:.2f}  {h.path}  lines {h.line_start}-"
                       f"{h.line_end}\n    best line {h.best_line}: {_clip(h.best_text, 200)}")
        out.append("Read lines with ctx_slice(volume, line_start, line_end).")
        return ToolResult("\n".join(out), meta={"hits": [asdict(h) for h in hits]})


class CtxGrep(_CtxTool):
    def __init__(self, store: VolumeStore, names: list[str]) -> None:
        super().__init__(store)
        self.spec = ToolSpec(
            name="ctx_grep",
            description="Find lines of a volume containing exact text (or a regular expression "
                        "with regex=true); returns volume line numbers.",
            parameters={"type": "object", "properties": {
                "volume": _volume_param(names),
                "pattern": {"type": "string", "description": "text to find"},
                "max_lines": {"type": "integer", "description": "lines to return, default 50"},
                "regex": {"type": "boolean", "description": "treat pattern as a regex"},
                "ignore_case": {"type": "boolean", "description": "case-insensitive"},
            }, "required": ["volume", "pattern"]})

    def label(self, args: dict[str, Any]) -> str:
        return f"Grepping {args.get('volume', '?')} for {args.get('pattern', '')!r}"

    def call(self, args: dict[str, Any]) -> ToolResult:
        pattern = str(args.get("pattern") or "")
        max_lines = max(1, min(_int(args, "max_lines", 50), MAX_GREP_LINES))
        handle = self.store.get(str(args.get("volume", "")))
        res = handle.volume.grep(pattern, regex=bool(args.get("regex", False)),
                                 ignore_case=bool(args.get("ignore_case", False)),
                                 max_lines=max_lines)
        if not res.hits:
            return ToolResult(f"No line of '{handle.volume.name}' matches {pattern!r}.",
                              meta={"hits": [], "total": 0})
        total = f"{res.total}+" if res.count_capped else str(res.total)
        head = f"{total} matching line(s)" + (f", showing {len(res.hits)}" if res.truncated else "")
        body = [f"{h.line}: {h.path}:{h.file_line}: {_clip(h.text, 300)}" for h in res.hits]
        return ToolResult("\n".join([head, *body]),
                          meta={"hits": [asdict(h) for h in res.hits], "total": res.total})


class CtxSlice(_CtxTool):
    def __init__(self, store: VolumeStore, names: list[str]) -> None:
        super().__init__(store)
        self.spec = ToolSpec(
            name="ctx_slice",
            description=f"Read lines line_start..line_end (volume line numbers, inclusive) of a "
                        f"volume; at most {MAX_SLICE_LINES} lines per call.",
            parameters={"type": "object", "properties": {
                "volume": _volume_param(names),
                "line_start": {"type": "integer", "description": "first line (1-based)"},
                "line_end": {"type": "integer", "description": "last line (inclusive)"},
            }, "required": ["volume", "line_start", "line_end"]})

    def label(self, args: dict[str, Any]) -> str:
        return (f"Reading {args.get('volume', '?')} lines {args.get('line_start', '?')}-"
                f"{args.get('line_end', '?')}")

    def call(self, args: dict[str, Any]) -> ToolResult:
        start = _int(args, "line_start")
        end = _int(args, "line_end")
        handle = self.store.get(str(args.get("volume", "")))
        vol = handle.volume
        if start < 1 or end < start:
            raise ToolError(f"bad line range {start}-{end}: lines start at 1 and end >= start")
        if start > vol.n_lines:
            raise ToolError(f"line {start} is past the end of '{vol.name}' "
                            f"({vol.n_lines:,} lines)")
        asked_end = end
        end = min(end, vol.n_lines, start + MAX_SLICE_LINES - 1)
        out: list[str] = []
        used = 0
        shown_end = start - 1
        current = None
        for i, text in enumerate(vol.lines(start - 1, end), start):
            f = vol.file_at(i - 1)
            if f is not current:
                marker = f"--- {f.path} (file line {i - f.line0}) ---"
                out.append(marker)
                current = f
            line = f"{i}: {_clip(text)}"
            if used + len(line) > MAX_SLICE_CHARS and shown_end >= start:
                break
            out.append(line)
            used += len(line) + 1
            shown_end = i
        capped = shown_end < min(asked_end, vol.n_lines)
        if capped:
            out.append(f"[capped: showed lines {start}-{shown_end} of the {start}-{asked_end} "
                       f"asked (limit {MAX_SLICE_LINES} lines / {MAX_SLICE_CHARS:,} chars); "
                       f"continue with line_start={shown_end + 1}]")
        elif asked_end > vol.n_lines:
            out.append(f"[end of volume: it has {vol.n_lines:,} lines]")
        return ToolResult("\n".join(out), meta={"line_start": start, "line_end": shown_end,
                                                "capped": capped})


class CtxInfo(_CtxTool):
    def __init__(self, store: VolumeStore, names: list[str]) -> None:
        super().__init__(store)
        self.spec = ToolSpec(
            name="ctx_info",
            description="Describe a volume (size, files, top-level folders); without a volume, "
                        "list all volumes.",
            parameters={"type": "object", "properties": {"volume": _volume_param(names)}})

    def label(self, args: dict[str, Any]) -> str:
        return f"Describing volume {args.get('volume') or '(all)'}"

    def call(self, args: dict[str, Any]) -> ToolResult:
        name = str(args.get("volume") or "").strip()
        if not name:
            metas = self.store.metas()
            if not metas:
                return ToolResult("No volumes. Ingest one with: nanobot ingest PATH --name NAME",
                                  meta={"volumes": []})
            return ToolResult("\n".join(one_line(m) for m in metas),
                              meta={"volumes": [m.name for m in metas]})
        handle = self.store.get(name)
        from app.core.context_store.dense_status import semantic_status

        return ToolResult(describe(handle.volume, semantic_status(handle.volume.directory)),
                          meta={"volume": name, "lines": handle.volume.n_lines})


def ctx_tools(store: VolumeStore | None = None, *, always: bool = False) -> list[Any]:
    """The four ctx tools, or none when there is no volume yet (unless ``always``): a small model
    given tools it cannot use picks them anyway."""
    store = store or VolumeStore()
    names = store.names()
    if not names and not always:
        return []
    return [CtxSearch(store, names), CtxGrep(store, names), CtxSlice(store, names),
            CtxInfo(store, names)]
