"""Build or update a volume from files and directory trees.

A new version is written beside the old one and switched in with one atomic symlink replace, so a
failed or interrupted ingest leaves the existing volume exactly as it was. Re-ingesting the same
sources is incremental: files whose size and mtime did not change are copied from the old volume's
mapping (not read again) and keep their index rows.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from app.core.context_store import layout
from app.core.context_store.chunks import chunk_spans
from app.core.context_store.errors import VolumeError
from app.core.context_store.ignore import WalkReport, walk_tree
from app.core.context_store.index import ChunkIndex, PendingChunk
from app.core.context_store.layout import FileEntry, Meta
from app.core.context_store.textdetect import SNIFF_BYTES, as_utf8, looks_binary
from app.core.context_store.versions import locked, switch
from app.core.context_store.volume import Volume

MAX_FILE_BYTES = 256 * 1024 * 1024
# (phase, done, total): phase is "scan", "read" or "index".
Progress = Callable[[str, int, int], None]


def _no_progress(_phase: str, _done: int, _total: int) -> None:
    return None


@dataclass
class IngestReport:
    name: str
    meta: Meta
    files_read: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    binary: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)
    ignored: int = 0
    incremental: bool = False
    read_s: float = 0.0
    index_s: float = 0.0

    def skipped_summary(self) -> str:
        parts = []
        if self.binary:
            parts.append(f"{len(self.binary)} binary")
        if self.too_large:
            parts.append(f"{len(self.too_large)} too large")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable")
        if self.special:
            parts.append(f"{len(self.special)} not regular files")
        if self.ignored:
            parts.append(f"{self.ignored} ignored")
        return ", ".join(parts) or "none"


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{n} B"
        size /= 1024
    return f"{n} B"


def _resolve_sources(paths: list[str | Path]) -> list[Path]:
    if not paths:
        raise VolumeError("no paths to ingest")
    out: list[Path] = []
    missing = []
    for raw in paths:
        p = Path(os.path.expanduser(str(raw)))
        if not p.exists():
            missing.append(str(raw))
            continue
        out.append(p.resolve())
    if missing:
        raise VolumeError("no such file or directory: " + ", ".join(missing))
    return list(dict.fromkeys(out))


def _display_base(sources: list[Path]) -> Path:
    parents = [s.parent for s in sources]
    return Path(os.path.commonpath([str(p) for p in parents]))


def _candidates(sources: list[Path], walk: WalkReport) -> Iterator[Path]:
    for src in sources:
        if src.is_dir():
            yield from walk_tree(src, walk)
        else:
            yield src


@dataclass
class _Builder:
    """Writes the new text file and collects line starts and the file table."""

    directory: Path
    out: BinaryIO | None = None
    pos: int = 0
    line: int = 0
    starts: list[npt.NDArray[np.int64]] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)

    def add(self, path: str, source: str, data: bytes, size: int, mtime_ns: int,
            line_starts: npt.NDArray[np.int64]) -> FileEntry:
        """``line_starts``: the file's own line starts (relative, without the end)."""
        assert self.out is not None
        self.out.write(data)
        entry = FileEntry(path, source, self.line, len(line_starts), self.pos, len(data), size,
                          mtime_ns)
        self.starts.append(line_starts + self.pos)
        self.files.append(entry)
        self.pos += len(data)
        self.line += len(line_starts)
        return entry


def _line_starts(data: bytes) -> npt.NDArray[np.int64]:
    if not data:
        return np.zeros(0, dtype=np.int64)
    nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10).astype(np.int64)
    return np.concatenate(([0], nl[:-1] + 1)).astype(np.int64)


def _read_text(path: Path, report: IngestReport, shown: str) -> bytes | None:
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
            if looks_binary(head):
                report.binary.append(shown)
                return None
            data = head + fh.read()
    except OSError as exc:
        report.unreadable.append(f"{shown}: {exc.strerror or exc}")
        return None
    data = as_utf8(data)
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data


def ingest(paths: list[str | Path], name: str, root: Path, *, replace: bool = False,
           max_file_bytes: int = MAX_FILE_BYTES, progress: Progress = _no_progress,
           chunk_target: int = 4096, chunk_overlap: int = 256) -> IngestReport:
    """Create volume ``name`` under ``root`` from ``paths``, or update it incrementally."""
    layout.check_name(name)
    sources = _resolve_sources(paths)
    with locked(root, name):
        return _ingest_locked(sources, name, root, replace, max_file_bytes, progress,
                              chunk_target, chunk_overlap)


def _ingest_locked(sources: list[Path], name: str, root: Path, replace: bool,
                   max_file_bytes: int, progress: Progress, chunk_target: int,
                   chunk_overlap: int) -> IngestReport:
    link = root / name
    old: Volume | None = None
    sweep_stale(root, name)
    if link.is_symlink() and not link.exists():
        link.unlink()  # its version directory is gone: nothing left to protect
    if link.exists():
        try:
            old_meta = layout.read_meta(link)
        except VolumeError:
            if not replace:
                raise
            old_meta = None
        if old_meta is not None and not replace:
            if sorted(old_meta.sources) != sorted(map(str, sources)):
                raise VolumeError(
                    f"volume {name!r} already exists with other sources "
                    f"({', '.join(old_meta.sources)}); choose another --name, or pass --replace "
                    "to overwrite it. Re-ingesting the same paths updates it.")
            old = Volume(link)
    t0 = time.perf_counter()
    walk = WalkReport()
    progress("scan", 0, 0)
    candidates = list(_candidates(sources, walk))
    base = _display_base(sources)
    meta = Meta(name=name, sources=[str(s) for s in sources], created=time.time())
    report = IngestReport(
        name, meta, ignored=walk.ignored, incremental=old is not None,
        unreadable=[f"{os.path.relpath(p, base)}: {why}" for p, why in walk.unreadable],
        special=[os.path.relpath(p, base) for p in walk.special])
    gen = (old.meta.generation + 1) if old else 1
    target_dir = root / f".{name}.g{gen}-{os.getpid()}-{int(time.time() * 1000)}"
    target_dir.mkdir(parents=True)
    try:
        changed = _write_version(target_dir, candidates, base, old, report, max_file_bytes,
                                 progress)
        report.read_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        _build_index(target_dir, old, changed, report, progress, chunk_target, chunk_overlap)
        report.index_s = time.perf_counter() - t1
        if old is not None:
            meta.created = old.meta.created
        meta.generation = gen
        meta.updated = time.time()
        meta.last_ingest = {"read": report.files_read, "unchanged": report.files_unchanged,
                            "removed": report.files_removed}
        meta.skipped = {"binary": len(report.binary), "too_large": report.too_large[:50],
                        "unreadable": report.unreadable[:50], "special": len(report.special),
                        "ignored": report.ignored}
        layout.write_meta(target_dir, meta)
        switch(root, name, target_dir)
    except BaseException:
        shutil.rmtree(target_dir, ignore_errors=True)
        raise
    finally:
        if old is not None:
            old.close()
    return report


def sweep_stale(root: Path, name: str) -> list[Path]:
    """Remove what killed ingests of ``name`` left: version directories the volume does not
    point at, and half-made links. Call with the volume's lock held (no ingest is running)."""
    link = root / name
    current = os.readlink(link) if link.is_symlink() else ""
    stale = re.compile(rf"^\.{re.escape(name)}\.(?:g\d+-\d+-\d+|link-\d+)$")
    removed: list[Path] = []
    for p in root.iterdir():
        if p.name == current or not stale.match(p.name):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _write_version(target: Path, candidates: list[Path], base: Path, old: Volume | None,
                   report: IngestReport, max_file_bytes: int, progress: Progress) -> set[str]:
    """Write text.bin, lines.u64 and files.json; return the paths whose text is new."""
    b = _Builder(target)
    changed: set[str] = set()
    seen: set[str] = set()
    total = len(candidates)
    with (target / layout.TEXT).open("wb") as out:
        b.out = out
        for n, path in enumerate(candidates, 1):
            if n % 50 == 0 or n == total:
                progress("read", n, total)
            shown = os.path.relpath(path, base)
            if shown in seen:
                continue
            try:
                st = path.stat()
            except OSError as exc:
                report.unreadable.append(f"{shown}: {exc.strerror or exc}")
                continue
            if not stat.S_ISREG(st.st_mode):
                report.special.append(shown)
                continue
            if st.st_size > max_file_bytes:
                report.too_large.append(
                    f"{shown}: {_human(st.st_size)}, over the {_human(max_file_bytes)} per-file "
                    "limit (--max-file-mb)")
                continue
            prev = old.file(shown) if old else None
            if (old is not None and prev is not None and prev.source == str(path)
                    and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns):
                data = bytes(old.text[prev.byte0:prev.byte0 + prev.n_bytes])
                report.files_unchanged += 1
            else:
                read = _read_text(path, report, shown)
                if read is None:
                    continue
                data = read
                changed.add(shown)
                report.files_read += 1
            seen.add(shown)
            b.add(shown, str(path), data, st.st_size, st.st_mtime_ns, _line_starts(data))
    if not b.files:
        raise VolumeError(f"nothing to ingest: no text files found (skipped: "
                          f"{report.skipped_summary()})" + _first_reasons(report))
    offsets = np.concatenate([*b.starts, np.array([b.pos], dtype=np.int64)]).astype("<u8")
    offsets.tofile(target / layout.LINES)
    layout.write_files(target, b.files)
    m = report.meta
    m.bytes, m.lines, m.files = b.pos, b.line, len(b.files)
    m.chars = _count_chars(target / layout.TEXT, b.pos)
    if old is not None:
        report.files_removed = len({f.path for f in old.files} - seen)
    return changed


def _first_reasons(report: IngestReport) -> str:
    reasons = report.too_large[:3] + report.unreadable[:3] + report.binary[:3]
    return ("; " + "; ".join(reasons)) if reasons else ""


def _count_chars(path: Path, size: int) -> int:
    """Characters = bytes minus UTF-8 continuation bytes, counted in 16 MB blocks."""
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(16 << 20):
            arr = np.frombuffer(block, dtype=np.uint8)
            count += int(arr.size - np.count_nonzero((arr & 0xC0) == 0x80))
    return count if size else 0


def _build_index(target: Path, old: Volume | None, changed: set[str], report: IngestReport,
                 progress: Progress, chunk_target: int, chunk_overlap: int) -> None:
    if old is not None and (old.directory / layout.INDEX).exists():
        shutil.copyfile(old.directory / layout.INDEX, target / layout.INDEX)
    index = ChunkIndex(target / layout.INDEX)
    try:
        files = layout.read_files(target)
        keep = {f.path for f in files} - changed
        stale = [p for (p,) in index.db.execute("SELECT DISTINCT path FROM chunks")
                 if p not in keep]
        index.delete_paths(stale)
        vol_offsets = np.fromfile(target / layout.LINES, dtype="<u8").astype(np.int64)
        todo = [f for f in files if f.path in changed]
        pending: list[PendingChunk] = []
        with (target / layout.TEXT).open("rb") as fh:
            for n, f in enumerate(todo, 1):
                if f.n_lines == 0:
                    continue
                fh.seek(f.byte0)
                data = fh.read(f.n_bytes)
                starts = vol_offsets[f.line0:f.line_end + 1] - f.byte0
                for a, z in chunk_spans(starts, chunk_target, chunk_overlap):
                    body = data[starts[a]:starts[z]].decode("utf-8", errors="replace")
                    pending.append(PendingChunk(f.path, a, z, body))
                if len(pending) > 2000:
                    index.add(pending)
                    pending = []
                if n % 50 == 0 or n == len(todo):
                    progress("index", n, len(todo))
        index.add(pending)
        index.commit()
        if changed or stale:
            index.optimize()
        report.meta.chunks = index.count()
        report.meta.near_dup_chunks = index.near_dup_count()
    finally:
        index.close()
