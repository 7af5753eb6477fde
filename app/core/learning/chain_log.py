"""An append-only JSONL log whose records form one hash chain, safe under many writers.

Each record carries ``seq`` (its place in the chain), ``prev`` (the previous record's hash) and
``hash`` (SHA-256 of the record's canonical JSON without ``hash``). Records go to one file per day
(``YYYY-MM-DD.jsonl``); the chain runs on across files, so a day's first record points at the
last record of the day before.

Two writers must never both chain onto the same record (the predecessor's audit log forked that
way: both read seq 940 before either appended). So a writer takes an exclusive ``flock`` on the
directory's lock file *first*, then reads the last record, then appends and syncs, and only then
lets go. ``flock`` dies with its process, so a killed writer leaves no stale lock behind. A line
torn by a crash is ended with a newline before the next append; readers skip it and the chain
continues from the last whole record (:func:`verify` reports it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
LOCK_FILE = ".lock"
_TAIL_CHUNK = 65536


def record_hash(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def day_name(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts)) + ".jsonl"


@dataclass(frozen=True)
class ChainProblem:
    file: str
    line: int
    what: str


@dataclass
class ChainReport:
    records: int = 0
    files: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class ChainLog:
    """The log in ``directory``; cheap to create, safe to share between processes."""

    def __init__(self, directory: Path, *, keep_days: int = 0) -> None:
        self.directory = directory
        self.keep_days = keep_days  # 0 = keep every file

    def files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("*.jsonl") if p.name[:4].isdigit())

    # --- writing -------------------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Chain ``record`` onto the log and write it; returns it with seq, prev, hash and ts."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)  # held across read-last + append
            last = self._last_record()
            out = dict(record)
            out.setdefault("ts", time.time())
            out["seq"] = int(last["seq"]) + 1 if last else 0
            out["prev"] = str(last["hash"]) if last else GENESIS
            out.pop("hash", None)
            out["hash"] = record_hash(out)
            line = json.dumps(out, ensure_ascii=False, default=str) + "\n"
            path = self.directory / day_name(float(out["ts"]))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if _ends_torn(path):
                    os.write(fd, b"\n")
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._prune()
            return out
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)

    def _last_record(self) -> dict[str, Any] | None:
        for path in reversed(self.files()):
            rec = _last_whole_record(path)
            if rec is not None:
                return rec
        return None

    def _prune(self) -> None:
        if self.keep_days <= 0:
            return
        keep = {day_name(time.time() - d * 86400) for d in range(self.keep_days)}
        files = self.files()
        for path in files[:-1]:  # the newest file carries the chain on
            if path.name not in keep and path.name < min(keep):
                path.unlink(missing_ok=True)

    # --- reading -------------------------------------------------------------------------------

    def records(self) -> Iterator[dict[str, Any]]:
        """Every whole record, oldest first (torn or foreign lines skipped)."""
        for path in self.files():
            for _, rec in _read(path):
                if rec is not None:
                    yield rec

    def newest_first(self) -> Iterator[dict[str, Any]]:
        """Whole records, newest first (a file at a time: cheap for "the last N")."""
        for path in reversed(self.files()):
            recs = [r for _, r in _read(path) if r is not None]
            yield from reversed(recs)

    def verify(self) -> ChainReport:
        """Check every link: hashes match contents, each record points at the one before it,
        and no two records share a predecessor (a fork)."""
        report = ChainReport()
        prev_hash: str | None = None
        prev_seq: int | None = None
        seen_prev: dict[str, str] = {}
        for path in self.files():
            report.files += 1
            for lineno, rec in _read(path):
                where = (path.name, lineno)
                if rec is None:
                    report.problems.append(ChainProblem(*where, "damaged line (skipped)"))
                    continue
                report.records += 1
                h, p = str(rec.get("hash", "")), str(rec.get("prev", ""))
                if record_hash(rec) != h:
                    report.problems.append(ChainProblem(*where, "hash does not match the record"))
                if p in seen_prev:
                    report.problems.append(ChainProblem(
                        *where, f"fork: seq {rec.get('seq')} chains onto the same record as "
                                f"seq {seen_prev[p]}"))
                seen_prev[p] = str(rec.get("seq"))
                if prev_hash is not None and p != prev_hash:
                    report.problems.append(ChainProblem(*where, "prev is not the hash of the "
                                                                "record before it"))
                if prev_seq is not None and rec.get("seq") != prev_seq + 1:
                    report.problems.append(ChainProblem(
                        *where, f"seq {rec.get('seq')} follows seq {prev_seq}"))
                prev_hash = h
                seq = rec.get("seq")
                prev_seq = seq if isinstance(seq, int) else None
        return report


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        rec = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) and "hash" in rec else None


def _read(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    try:
        with path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    yield n, _parse(line)
    except OSError:
        return


def _ends_torn(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:
        return False


def _last_whole_record(path: Path) -> dict[str, Any] | None:
    """The file's last parseable record, read from the end."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            pos, tail = end, b""
            while pos > 0:
                step = min(_TAIL_CHUNK, pos)
                pos -= step
                fh.seek(pos)
                tail = fh.read(step) + tail
                lines = tail.split(b"\n")
                # The first piece may be a partial line unless we reached the file's start.
                for line in reversed(lines if pos == 0 else lines[1:]):
                    if line.strip():
                        rec = _parse(line)
                        if rec is not None:
                            return rec
                tail = lines[0] if pos > 0 else b""
    except OSError:
        return None
    return None
