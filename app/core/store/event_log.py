"""The event log: one append-only JSONL file per session, rotated by size, readable both ways.

Decision (see docs/EVENT_LOG.md): the log is per *session*, and it is the session file itself. The
session is the unit that is resumed, and compaction stubs and summaries cite spans of its log, so the
text they stand in for always lives in the same log. Workers and compaction write into their root
session's log through the session's one writer (records from workers carry ``"worker": "<id>"``).

Every record gets a monotonically increasing ``seq``; a citation such as ``[log SID#57]`` or
``[log SID#3-188]`` names records by ``seq``, which survives rotation. When the active file passes
``max_bytes`` it is renamed to ``<name>.jsonl.<first seq>`` (so ``*.jsonl`` globs still list one file
per session) and a fresh active file begins. A ``kill -9`` can at worst leave a torn last line:
readers skip such lines and count them, and the next writer starts on a fresh line. One process
writes a log at a time (an exclusive ``flock``), and a failed write leaves no partial record.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_BLOCK = 64 * 1024


@dataclass
class ReadStats:
    """What a reader had to skip (torn or corrupt lines), so callers can say so."""

    skipped: int = 0
    skipped_at: list[tuple[str, int]] = field(default_factory=list)  # (segment name, line)

    def skip(self, segment: Path, lineno: int) -> None:
        self.skipped += 1
        if len(self.skipped_at) < 100:
            self.skipped_at.append((segment.name, lineno))


@dataclass(frozen=True)
class LogLine:
    segment: Path
    lineno: int  # 1-based within the segment; counted from the end when read backwards
    record: dict[str, Any]

    @property
    def seq(self) -> int | None:
        value = self.record.get("seq")
        return value if isinstance(value, int) else None


def parse_line(line: bytes | str) -> dict[str, Any] | None:
    """The record on one line, or None when it is damaged (torn, not JSON, not UTF-8)."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        return None  # replacing the bytes would hide the damage and change the text
    text = text.strip()
    if not text:
        return None
    try:
        rec = json.loads(text)
    except json.JSONDecodeError:
        return None
    return rec if isinstance(rec, dict) else None


def segments(path: Path) -> list[Path]:
    """The files of one log, oldest first: rotated archives by first seq, then the active file."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    archives: list[tuple[int, Path]] = []
    if path.parent.exists():
        for p in path.parent.iterdir():
            m = pattern.match(p.name)
            if m:
                archives.append((int(m.group(1)), p))
    out = [p for _, p in sorted(archives)]
    if path.exists():
        out.append(path)
    return out


def _iter_segment(seg: Path, stats: ReadStats) -> Iterator[LogLine]:
    with open(seg, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            rec = parse_line(raw)
            if rec is None:
                stats.skip(seg, lineno)
                continue
            yield LogLine(seg, lineno, rec)


def iter_log(path: Path, stats: ReadStats | None = None) -> Iterator[LogLine]:
    """Every readable record of the log, oldest first; unreadable lines are counted in ``stats``."""
    stats = stats if stats is not None else ReadStats()
    for seg in segments(path):
        yield from _iter_segment(seg, stats)


def _iter_segment_backwards(seg: Path, stats: ReadStats) -> Iterator[LogLine]:
    """Lines of one file newest first, reading fixed-size blocks from the end (no full read)."""
    with open(seg, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        pos = fh.tell()
        rest = b""
        from_end = 0
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            fh.seek(pos)
            block = fh.read(step) + rest
            lines = block.split(b"\n")
            rest = lines.pop(0)  # may be the tail of a line that starts in an earlier block
            for raw in reversed(lines):
                if not raw.strip():
                    continue
                from_end += 1
                rec = parse_line(raw)
                if rec is None:
                    stats.skip(seg, -from_end)
                    continue
                yield LogLine(seg, -from_end, rec)
        if rest.strip():
            from_end += 1
            rec = parse_line(rest)
            if rec is None:
                stats.skip(seg, -from_end)
            else:
                yield LogLine(seg, -from_end, rec)


def iter_log_backwards(path: Path, stats: ReadStats | None = None) -> Iterator[LogLine]:
    """Every readable record, newest first: tail queries stop early and never read the whole log."""
    stats = stats if stats is not None else ReadStats()
    for seg in reversed(segments(path)):
        yield from _iter_segment_backwards(seg, stats)


def tail(path: Path, n: int, *, kind: str | None = None,
         stats: ReadStats | None = None) -> list[dict[str, Any]]:
    """The last ``n`` records (optionally of one ``type``), oldest first."""
    out: list[dict[str, Any]] = []
    if n <= 0:
        return out
    for line in iter_log_backwards(path, stats):
        if kind is None or line.record.get("type") == kind:
            out.append(line.record)
            if len(out) >= n:
                break
    out.reverse()
    return out


def _first_seq(seg: Path) -> int | None:
    for line in _iter_segment(seg, ReadStats()):
        if line.seq is not None:
            return line.seq
    return None


def read_span(path: Path, first: int, last: int | None = None,
              stats: ReadStats | None = None) -> list[dict[str, Any]]:
    """Records with ``first <= seq <= last`` (``last`` defaults to ``first``), oldest first."""
    last = first if last is None else last
    segs = segments(path)
    # A segment's records start at the seq in its name (archives) or at its first record (active):
    # skip whole segments that end before the span starts.
    starts: list[int | None] = []
    for seg in segs:
        m = re.search(r"\.(\d+)$", seg.name)
        starts.append(int(m.group(1)) if m and seg != path else _first_seq(seg))
    stats = stats if stats is not None else ReadStats()
    out: list[dict[str, Any]] = []
    for i, seg in enumerate(segs):
        nxt = next((s for s in starts[i + 1:] if s is not None), None)
        if nxt is not None and nxt <= first:
            continue
        start = starts[i]
        if start is not None and start > last:
            break
        for line in _iter_segment(seg, stats):
            seq = line.seq
            if seq is None:
                continue
            if seq > last:
                return out
            if seq >= first:
                out.append(line.record)
    return out


class LogInUseError(OSError):
    """Another process holds the log open for writing (its exclusive ``flock``)."""


class EventLog:
    """The single writer of one log: assigns ``seq``, writes every record whole, rotates by size.

    The writer holds an exclusive ``flock`` on the active file, so a second process cannot
    interleave records (it gets :class:`LogInUseError`, at once for an existing file). A write
    that fails (disk full, file too large) is undone with ``ftruncate``: the file keeps ending on
    a whole record, and a file this writer created and never completed a record in is removed.
    """

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 lock: bool = True) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._fd: int | None = None
        self._created = False
        self._needs_nl = False
        self._next_seq: int | None = None
        self._active_first: int | None = None
        self.last_seq = 0  # seq of the last record written by this writer (0 = none yet)
        if lock and path.exists():
            self._fd = self._open()  # an existing file is claimed now, before any turn runs

    def _open(self) -> int:
        # Made on the first record, not before: a directory that cannot be made (a read-only
        # home) fails that write, which the session reports, instead of the whole command.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        existed = self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LogInUseError(errno.EWOULDBLOCK, f"{self.path.name} is open in another "
                                "Nanobot process; close it there first") from None
        except OSError:
            os.close(fd)
            raise
        self._created = not existed
        # The previous writer may have died mid-line: the next record starts on a fresh one.
        self._needs_nl = existed and os.fstat(fd).st_size > 0 and not _ends_nl(self.path)
        if self._next_seq is None:
            last = next((ln.seq for ln in iter_log_backwards(self.path) if ln.seq is not None), 0)
            self._next_seq = last + 1
            self._active_first = _first_seq(self.path) if existed else None
        return fd

    def _write(self, fd: int, data: bytes) -> None:
        """All of ``data`` or nothing: a failed write is cut back off the file."""
        before = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            if self._created and before == 0:
                with contextlib.suppress(OSError):
                    self.path.unlink()
                os.close(fd)
                self._fd, self._created = None, False
            raise

    def append_record(self, record: dict[str, Any]) -> int:
        """Write one record (a ``seq`` is put first) as one write; returns the record's seq."""
        if self._fd is None:
            self._fd = self._open()
        fd = self._fd
        assert self._next_seq is not None
        seq = self._next_seq
        line = json.dumps({"seq": seq, **{k: v for k, v in record.items() if k != "seq"}},
                          ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        if self._needs_nl:
            line = b"\n" + line
        self._write(fd, line)
        self._created = self._needs_nl = False
        self._next_seq = seq + 1
        self.last_seq = seq
        if self._active_first is None:
            self._active_first = seq
        if os.fstat(fd).st_size >= self.max_bytes:
            self._rotate()
        return seq

    def _rotate(self) -> None:
        first = self._active_first if self._active_first is not None else 0
        os.replace(self.path, self.path.with_name(f"{self.path.name}.{first:010d}"))
        self._active_first = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _ends_nl(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
