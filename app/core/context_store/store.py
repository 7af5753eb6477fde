"""All volumes under one directory (``data_dir/volumes``), with open handles cached and reopened
when a re-ingest switches a volume to a new version."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.context_store import layout
from app.core.context_store.errors import VolumeError
from app.core.context_store.index import ChunkIndex
from app.core.context_store.layout import Meta
from app.core.context_store.volume import Volume
from app.core.settings.paths import get_paths

if TYPE_CHECKING:
    from app.core.context_store.dense import DenseIndex, Embedder


def default_root() -> Path:
    return get_paths().data_dir / "volumes"


@dataclass
class Handle:
    """An open volume and its chunk index, valid for one version of the volume."""

    target: str
    volume: Volume
    index: ChunkIndex


class VolumeStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()
        self._open: dict[str, Handle] = {}
        self._lock = threading.Lock()
        self._dense: dict[str, tuple[Any, DenseIndex]] = {}
        self._embedder: Embedder | None = None

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if not p.name.startswith(".") and (p / layout.META).exists())

    def metas(self) -> list[Meta]:
        out = []
        for n in self.names():
            try:
                out.append(layout.read_meta(self.root / n))
            except VolumeError:
                continue
        return out

    def get(self, name: str) -> Handle:
        """The open volume ``name`` (reopened if it was re-ingested since)."""
        if not isinstance(name, str) or not name:
            raise VolumeError("volume name is required")
        layout.check_name(name)
        link = self.root / name
        try:
            target = os.readlink(link) if link.is_symlink() else str(link)
        except OSError:
            target = ""
        with self._lock:
            h = self._open.get(name)
            if h is not None and h.target == target:
                return h
            if not (link / layout.META).exists():
                known = ", ".join(self.names()) or "none (ingest one: nanobot ingest PATH --name NAME)"
                raise VolumeError(f"no volume named {name!r}; volumes: {known}")
            volume = Volume(link)
            index = ChunkIndex(link / layout.INDEX)
            if h is not None:
                h.volume.close()
                h.index.close()
            h = Handle(target, volume, index)
            self._open[name] = h
            return h

    def dense(self, name: str) -> DenseIndex | None:
        """The volume's semantic index as far as it is built, or None (no extra, not built, or
        unusable: search then stays BM25-only)."""
        from app.core.context_store.dense_status import available

        if not available():
            return None
        h = self.get(name)
        meta_path = h.volume.directory / layout.DENSE_META
        try:
            stamp = (h.target, meta_path.stat().st_mtime_ns)
        except OSError:
            return None
        cached = self._dense.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        from app.core.context_store.dense import DenseIndex, Embedder, cpu_threads

        try:
            if self._embedder is None:
                self._embedder = Embedder(threads=cpu_threads())
            index = DenseIndex(h.volume.directory, self._embedder)
        except (VolumeError, OSError, ValueError, KeyError):
            return None
        self._dense[name] = (stamp, index)
        return index

    def close(self) -> None:
        with self._lock:
            for h in self._open.values():
                h.volume.close()
                h.index.close()
            self._open.clear()
