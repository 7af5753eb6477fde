"""Find GGUF files on disk and read what each one is."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.models.embedded import models_dir
from app.core.models.fit import ModelShape
from app.core.models.gguf import ModelFileError
from app.core.models.gguf_meta import GGUFInfo, read_gguf

DEFAULT_DIRS = ("~/models",)


@dataclass(frozen=True)
class LocalModel:
    path: Path
    size: int
    info: GGUFInfo | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.info is not None

    def shape(self) -> ModelShape:
        if self.info is None:
            raise ModelFileError(self.error or f"unreadable: {self.path}")
        return ModelShape.from_gguf(self.info)


def model_dirs(configured: Iterable[str] = ()) -> list[Path]:
    """Configured directories, then ``~/models``, then Nanobot's own models directory."""
    out: list[Path] = []
    for raw in [*configured, *DEFAULT_DIRS, str(models_dir())]:
        p = Path(os.path.expanduser(raw))
        if p not in out:
            out.append(p)
    return out


def inspect(path: Path) -> LocalModel:
    try:
        size = path.stat().st_size
    except OSError as exc:
        return LocalModel(path, 0, error=f"cannot stat: {exc}")
    try:
        return LocalModel(path, size, info=read_gguf(path))
    except ModelFileError as exc:
        return LocalModel(path, size, error=str(exc))


def scan(dirs: Iterable[Path], *, depth: int = 2) -> list[LocalModel]:
    """Every ``*.gguf`` up to ``depth`` levels down, skipping partial downloads."""
    found: list[LocalModel] = []
    seen: set[Path] = set()
    for root in dirs:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            rel_depth = len(Path(dirpath).relative_to(root).parts)
            if rel_depth >= depth:
                dirnames[:] = []
            for name in sorted(filenames):
                if not name.lower().endswith(".gguf"):
                    continue
                p = (Path(dirpath) / name).resolve()
                if p in seen:
                    continue
                seen.add(p)
                found.append(inspect(p))
    return found
