"""The on-disk layout of a volume and its small JSON records.

``volumes/NAME/`` holds ``text.bin`` (every file's text, one after another, each ending in a
newline), ``lines.u64`` (little-endian byte offset of every line start, plus the end), ``files.json``
(the file-boundary table), ``meta.json`` and ``index.sqlite`` (chunks and the FTS5 index).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.context.tokens import TokenEstimator
from app.core.context_store.errors import VolumeError
from app.core.settings.paths import atomic_write_text

FORMAT_VERSION = 1
TEXT = "text.bin"
LINES = "lines.u64"
FILES = "files.json"
META = "meta.json"
INDEX = "index.sqlite"
DENSE = "dense.npy"
DENSE_META = "dense.json"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise VolumeError(
            f"bad volume name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit")
    return name


@dataclass(frozen=True)
class FileEntry:
    """One ingested file: where its text sits in the volume and how it looked on disk."""

    path: str          # shown to users and models, relative to the sources' common parent
    source: str        # absolute path read at ingest
    line0: int         # first volume line (0-based)
    n_lines: int
    byte0: int
    n_bytes: int
    size: int          # on disk, for change detection
    mtime_ns: int

    @property
    def line_end(self) -> int:
        return self.line0 + self.n_lines


@dataclass
class Meta:
    name: str
    sources: list[str]
    version: int = FORMAT_VERSION
    created: float = 0.0
    updated: float = 0.0
    generation: int = 1
    bytes: int = 0
    chars: int = 0
    lines: int = 0
    files: int = 0
    chunks: int = 0
    near_dup_chunks: int = 0
    skipped: dict[str, Any] = field(default_factory=dict)
    last_ingest: dict[str, int] = field(default_factory=dict)

    @property
    def approx_tokens(self) -> int:
        return TokenEstimator().for_chars(self.chars)


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1))


def read_meta(directory: Path) -> Meta:
    path = directory / META
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        meta = Meta(**raw)
    except FileNotFoundError as exc:
        raise VolumeError(f"volume {directory.name!r} not found") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise VolumeError(f"volume {directory.name!r} is damaged ({path}: {exc}); "
                          "ingest it again with --replace") from exc
    if meta.version != FORMAT_VERSION:
        raise VolumeError(f"volume {meta.name!r} has format {meta.version}, this Nanobot reads "
                          f"{FORMAT_VERSION}; ingest it again with --replace")
    return meta


def write_meta(directory: Path, meta: Meta) -> None:
    write_json(directory / META, asdict(meta))


def read_files(directory: Path) -> list[FileEntry]:
    try:
        raw = json.loads((directory / FILES).read_text(encoding="utf-8"))
        return [FileEntry(**r) for r in raw]
    except (OSError, ValueError, TypeError) as exc:
        raise VolumeError(f"volume {directory.name!r} has a damaged file table: {exc}") from exc


def write_files(directory: Path, files: list[FileEntry]) -> None:
    write_json(directory / FILES, [asdict(f) for f in files])
