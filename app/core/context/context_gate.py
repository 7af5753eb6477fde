"""The Context Gate: the single choke point where tool output enters the model's context.

Output that fits the room left in the window goes in raw. Output that does not is saved whole on
disk and replaced by a structural briefing: its size, an outline with line ranges, key lines
verbatim, the first and last lines, and exactly how to read any part of it (``read_file`` with
``lines`` on the file itself, or on an ``@outN`` handle for exec and web output). Nothing is cut
silently; the model never sees a bare "[TRUNCATED]". Secrets are redacted here too, on the way in.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.context.tokens import DEFAULT_CHARS_PER_TOKEN, TokenEstimator
from app.core.policy.redact import redact
from app.core.settings.paths import atomic_write_text

# Pessimistic on purpose, because an overflow costs more than a needless briefing: output is
# judged against this share of the room it is given, and a calibrated ratio above the default
# (cheaper tokens) never lets more through, while one below it (dearer tokens) lets less through.
MARGIN = 0.75
MIN_RAW_TOKENS = 256  # always let small outputs through, even in a nearly full window
MAX_OUTLINE = 24
MAX_KEY_LINES = 12
EDGE_LINES = 8
MAX_LINE_CHARS = 160
CACHE_MAX_AGE = 7 * 24 * 3600

_HANDLE = re.compile(r"@out(\d+)")
_KEY = re.compile(r"error|exception|traceback|fail|fatal|panic|warn|denied|not found|assert",
                  re.IGNORECASE)
_HEADING = re.compile(
    r"^(#{1,6} \S|(?:async\s+)?def \w|class \w|function \w|export \w|fn \w|func \w|impl \w"
    r"|={3,}|-{3,} \S|diff --git |@@ |\[[\w.\- ]+\]$|<h[1-6]|Title: |URL: )")


@dataclass(frozen=True)
class Admitted:
    """What the model will see for one tool result."""

    content: str
    raw: bool
    handle: str = ""  # "@out3" when the output was cached
    path: str = ""  # where the full text is (the cache file, or the file that was read)
    chars: int = 0
    lines: int = 0


def _clip(line: str) -> str:
    line = line.rstrip()
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… ({len(line):,} chars)"


class ContextGate:
    """One per session; oversized outputs are cached under ``cache_dir`` as ``N.txt``. Sizes are
    judged with the session's token estimator (``tokens``)."""

    def __init__(self, cache_dir: Path, tokens: TokenEstimator | None = None) -> None:
        self.cache_dir = cache_dir
        self.tokens = tokens or TokenEstimator()
        self._seq = 0
        self._gc_done = False

    # --- handles -----------------------------------------------------------------------------

    def resolve(self, handle: str) -> Path | None:
        """The cached file for ``@outN`` (None when unknown): only this session's own files."""
        m = _HANDLE.fullmatch(handle.strip())
        if not m:
            return None
        path = self.cache_dir / f"{int(m.group(1))}.txt"
        return path if path.is_file() else None

    def save(self, text: str) -> tuple[str, Path]:
        """Cache ``text`` whole (already redacted) and return its ``@outN`` handle and file."""
        return self._store(text)

    def handles(self) -> list[str]:
        """Every ``@outN`` this session can read back (for tools that must name one)."""
        if not self.cache_dir.is_dir():
            return []
        nums = sorted(int(p.stem) for p in self.cache_dir.glob("*.txt") if p.stem.isdigit())
        return [f"@out{n}" for n in nums]

    def _store(self, text: str) -> tuple[str, Path]:
        self._gc()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        while True:
            self._seq += 1
            path = self.cache_dir / f"{self._seq}.txt"
            if not path.exists():  # a resumed session keeps its earlier handles
                break
        atomic_write_text(path, text)
        return f"@out{self._seq}", path

    def _gc(self) -> None:
        """Drop other sessions' caches older than a week (once per gate)."""
        if self._gc_done:
            return
        self._gc_done = True
        parent = self.cache_dir.parent
        if not parent.is_dir():
            return
        cutoff = time.time() - CACHE_MAX_AGE
        for d in parent.iterdir():
            try:
                if d != self.cache_dir and d.is_dir() and d.stat().st_mtime < cutoff:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                continue

    # --- admission ---------------------------------------------------------------------------

    def admit(self, content: str, *, tool: str, args: dict[str, Any], budget_tokens: int,
              source_path: str = "") -> Admitted:
        """Raw when it fits ``budget_tokens``; otherwise cached whole plus a briefing.

        ``source_path`` names the workspace file a ``read_file`` result came from: the briefing
        then points back at that file instead of caching a copy.
        """
        content = redact(content)
        lines = content.splitlines()
        limit = max(MIN_RAW_TOKENS, budget_tokens)
        if len(content) <= self._room_chars(limit):
            return Admitted(content, True, chars=len(content), lines=len(lines))
        whole_file = source_path and tool == "read_file" and not args.get("lines")
        if whole_file:
            handle, path = "", source_path
            target = str(args.get("path") or source_path)
        else:
            handle, stored = self._store(content)
            path, target = str(stored), handle
        briefing = self._briefing(content, lines, tool=tool, args=args, target=target,
                                  path=path, budget_tokens=limit)
        return Admitted(briefing, False, handle=handle, path=path, chars=len(content),
                        lines=len(lines))

    def _room_chars(self, budget_tokens: int) -> int:
        """How many characters of output ``budget_tokens`` tokens of room take, judged
        pessimistically (see :data:`MARGIN`)."""
        ratio = min(self.tokens.chars_per_token, DEFAULT_CHARS_PER_TOKEN)
        return int(budget_tokens * ratio * MARGIN)

    def _briefing(self, content: str, lines: list[str], *, tool: str, args: dict[str, Any],
                  target: str, path: str, budget_tokens: int) -> str:
        n = len(lines)
        size = len(content.encode("utf-8"))
        # How many lines fit at once, so the model asks for ranges it can actually take in.
        avg = max(1.0, len(content) / max(1, n))
        per_read = max(20, min(n, int(self._room_chars(budget_tokens) * 0.8 / avg)))
        what = f"{tool} output" if tool != "read_file" else f"file {args.get('path', target)}"
        head = (f"[{what} is too large for the context window: {n:,} lines, {_size(size)}. "
                f"The full text is saved" + (f" as {target} ({path})" if target != path
                                             and target.startswith("@") else f" in {target}")
                + ". Below: an outline, key lines and the ends; read any part with read_file.]")
        sections = [head, self._outline(lines), self._key_lines(lines), self._edges(lines)]
        a, b = 1, min(n, per_read)
        hint = (f'To read more: read_file with path "{target}" and lines "a:b", e.g. lines '
                f'"{a}:{b}" (about {per_read:,} lines fit at once).')
        body = "\n\n".join(s for s in sections if s)
        room = int(self._room_chars(budget_tokens) * 0.6) - len(hint)
        if len(body) > room > 200:  # keep the briefing itself well inside the budget
            body = body[:room].rsplit("\n", 1)[0] + "\n(briefing shortened to fit)"
        return f"{body}\n\n{hint}"

    @staticmethod
    def _outline(lines: list[str]) -> str:
        n = len(lines)
        marks = [i for i, ln in enumerate(lines) if _HEADING.match(ln.strip())]
        if 2 <= len(marks) <= MAX_OUTLINE * 4:
            step = max(1, len(marks) // MAX_OUTLINE)
            chosen = marks[::step][:MAX_OUTLINE]
            if chosen[0] != 0:
                chosen.insert(0, 0)
        else:  # no usable structure: equal slices, each named by its first non-blank line
            parts = min(12, max(1, n))
            chosen = sorted({round(k * n / parts) for k in range(parts)})
        rows = ["Outline (line ranges):"]
        for k, start in enumerate(chosen):
            end = (chosen[k + 1] if k + 1 < len(chosen) else n)
            first = next((ln for ln in lines[start:end] if ln.strip()), "")
            rows.append(f"  {start + 1}-{end}: {_clip(first.strip())}")
        return "\n".join(rows)

    @staticmethod
    def _key_lines(lines: list[str]) -> str:
        hits = [(i, ln) for i, ln in enumerate(lines) if _KEY.search(ln)]
        if not hits:
            return ""
        rows = [f"Key lines ({len(hits):,} lines mention errors or warnings; first "
                f"{min(len(hits), MAX_KEY_LINES)} shown):"]
        rows += [f"  {i + 1}: {_clip(ln)}" for i, ln in hits[:MAX_KEY_LINES]]
        return "\n".join(rows)

    @staticmethod
    def _edges(lines: list[str]) -> str:
        n = len(lines)
        first = [f"  {i + 1}: {_clip(ln)}" for i, ln in enumerate(lines[:EDGE_LINES])]
        start = max(EDGE_LINES, n - EDGE_LINES)
        last = [f"  {i + 1}: {_clip(ln)}" for i, ln in enumerate(lines[start:], start=start)]
        out = "First lines:\n" + "\n".join(first)
        if last:
            out += "\nLast lines:\n" + "\n".join(last)
        return out


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KB"
    return f"{n} bytes"


def session_cache_dir(session_id: str) -> Path:
    from app.core.settings.paths import get_paths

    return get_paths().cache_dir / "tool_outputs" / re.sub(r"[^\w.-]", "_", session_id)

