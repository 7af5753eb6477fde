"""The delegate's workspace: named text variables, a bounded scratch memory, and the micro-tools.

Every tool is a pure function of the workspace and its arguments, and every result is capped, so a
round's prompt has a size known in advance however large the variables are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

SLICE_MAX = 2000   # characters one ctx_slice returns
GREP_LINES = 20    # lines one ctx_grep returns
GREP_CHARS = 2000  # characters one ctx_grep returns
LINE_CHARS = 240   # characters of one grep line
PREVIEW = 150      # characters of a variable's preview
MEMORY_KEYS = 12
MEMORY_VALUE = 600
MEMORY_TOTAL = 4000


class Text(Protocol):
    """What a variable holds: a string, or something that reads like one (a volume)."""

    def length(self) -> int: ...
    def slice(self, start: int, end: int) -> str: ...
    def grep(self, pattern: str, max_lines: int) -> tuple[list[tuple[int, str]], int]: ...
    def preview(self, n: int) -> str: ...


@dataclass
class StrText:
    """A variable backed by an in-memory string (a tool output)."""

    text: str
    _lines: list[str] | None = None

    def length(self) -> int:
        return len(self.text)

    def slice(self, start: int, end: int) -> str:
        return self.text[start:end]

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def grep(self, pattern: str, max_lines: int) -> tuple[list[tuple[int, str]], int]:
        matcher = _matcher(pattern)
        hits: list[tuple[int, str]] = []
        total = 0
        for i, line in enumerate(self.lines(), 1):
            if matcher(line):
                total += 1
                if len(hits) < max_lines:
                    hits.append((i, line))
        return hits, total

    def preview(self, n: int) -> str:
        return self.text[:n]


def _matcher(pattern: str) -> Callable[[str], bool]:
    """Case-insensitive substring; ``a|b`` matches either (the one regex habit small models have)."""
    parts = [p.strip().lower() for p in pattern.split("|") if p.strip()] or [pattern.lower()]
    return lambda line: any(p in line.lower() for p in parts)


def clip_line(text: str, limit: int = LINE_CHARS) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit})"


@dataclass
class Workspace:
    """Variables and scratch memory of one delegate (a summarize sub-loop gets its own copy)."""

    variables: dict[str, Text] = field(default_factory=dict)
    memory: dict[str, str] = field(default_factory=dict)
    _summaries: int = 0

    def add(self, name: str, value: Text | str) -> str:
        self.variables[name] = StrText(value) if isinstance(value, str) else value
        return name

    def new_summary_name(self) -> str:
        self._summaries += 1
        return f"summary_{self._summaries}"

    def describe(self) -> str:
        rows = []
        for name, v in self.variables.items():
            preview = " ".join(v.preview(PREVIEW).split())
            rows.append(f"Variable '{name}': {v.length():,} chars. Preview: {preview}…")
        return "\n".join(rows)

    def memory_text(self) -> str:
        return "\n".join(f"- {k}: {v}" for k, v in self.memory.items()) or "(empty)"

    def store(self, key: str, value: str) -> str:
        key = re.sub(r"\s+", "_", key.strip())[:40] or "note"
        value = value.strip()[:MEMORY_VALUE]
        self.memory.pop(key, None)
        self.memory[key] = value
        while len(self.memory) > MEMORY_KEYS or (
                sum(len(v) for v in self.memory.values()) > MEMORY_TOTAL and len(self.memory) > 1):
            self.memory.pop(next(iter(self.memory)))  # the oldest note goes first
        return f"Stored key '{key}'."

    def copy_of(self, name: str) -> Workspace:
        """A private workspace holding only ``name`` (what a summarize sub-loop works on)."""
        return Workspace({name: self.variables[name]})


class ToolFailure(Exception):
    """A micro-tool call the delegate got wrong; the message tells it what to do instead."""


def _var(ws: Workspace, args: dict[str, Any]) -> tuple[str, Text]:
    name = str(args.get("var") or args.get("variable") or "").strip()
    if not name and len(ws.variables) == 1:
        name = next(iter(ws.variables))
    if name not in ws.variables:
        known = ", ".join(ws.variables) or "none"
        raise ToolFailure(f"no variable {name!r}; variables: {known}")
    return name, ws.variables[name]


def _int(args: dict[str, Any], key: str, default: int) -> int:
    value = args.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ToolFailure(f"{key} must be an integer, got {value!r}") from exc


def ctx_slice(ws: Workspace, args: dict[str, Any]) -> str:
    name, v = _var(ws, args)
    n = v.length()
    start = max(0, min(_int(args, "start", 0), n))
    end = max(start, min(_int(args, "end", start + SLICE_MAX), n, start + SLICE_MAX))
    if start >= n:
        return f"'{name}' has only {n:,} chars."
    return f"[{name} chars {start}-{end} of {n:,}]\n{v.slice(start, end)}"


def ctx_grep(ws: Workspace, args: dict[str, Any]) -> str:
    name, v = _var(ws, args)
    pattern = str(args.get("pattern") or "").strip()
    if not pattern:
        raise ToolFailure("pattern is required")
    hits, total = v.grep(pattern, GREP_LINES)
    if not hits:
        return f"No matching lines for {pattern!r} in '{name}'."
    out = [f"{total} matching line(s) for {pattern!r} in '{name}'"
           + (f", first {len(hits)} shown:" if total > len(hits) else ":")]
    used = len(out[0])
    for line_no, text in hits:
        row = f"{line_no}: {clip_line(text)}"
        if used + len(row) > GREP_CHARS:
            out.append("(more lines cut at 2,000 chars)")
            break
        out.append(row)
        used += len(row) + 1
    return "\n".join(out)


def ctx_length(ws: Workspace, args: dict[str, Any]) -> str:
    name, v = _var(ws, args)
    return f"'{name}' has {v.length():,} chars."


def mem_store(ws: Workspace, args: dict[str, Any]) -> str:
    return ws.store(str(args.get("key") or "note"), str(args.get("value") or ""))


def mem_recall(ws: Workspace, args: dict[str, Any]) -> str:
    key = str(args.get("key") or "")
    if key in ws.memory:
        return f"{key}: {ws.memory[key]}"
    return f"No key {key!r} in memory; keys: {', '.join(ws.memory) or 'none'}"


PURE_TOOLS: dict[str, Callable[[Workspace, dict[str, Any]], str]] = {
    "ctx_slice": ctx_slice, "ctx_grep": ctx_grep, "ctx_length": ctx_length,
    "mem_store": mem_store, "mem_recall": mem_recall,
}

TOOL_HELP = {
    "ctx_grep": 'ctx_grep(var, pattern): lines containing pattern (case-insensitive; "a|b" for '
                "either), at most 20",
    "ctx_slice": "ctx_slice(var, start, end): the characters start..end, at most 2,000",
    "ctx_length": "ctx_length(var): the size in characters",
    "ctx_summarize": "ctx_summarize(var, instruction): a helper reads var for the instruction; "
                     "its result becomes a new variable",
    "mem_store": "mem_store(key, value): keep a note for later rounds",
    "mem_recall": "mem_recall(key): read a note back",
    "answer": "answer(text): the final finding; quote numbers, paths and errors exactly",
}

ARG_SCHEMAS: dict[str, dict[str, Any]] = {
    "ctx_grep": {"var": {"type": "string"}, "pattern": {"type": "string"}},
    "ctx_slice": {"var": {"type": "string"}, "start": {"type": "integer"},
                  "end": {"type": "integer"}},
    "ctx_length": {"var": {"type": "string"}},
    "ctx_summarize": {"var": {"type": "string"}, "instruction": {"type": "string"}},
    "mem_store": {"key": {"type": "string"}, "value": {"type": "string"}},
    "mem_recall": {"key": {"type": "string"}},
    "answer": {"text": {"type": "string"}},
}
