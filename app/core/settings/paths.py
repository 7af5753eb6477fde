"""Where Nanobot keeps its files: XDG directories, or everything under ``$NANOBOT_HOME``.

Tests point ``NANOBOT_HOME`` at a temporary directory so nothing touches the user's home.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def sessions_dir(self) -> Path:
        return self.data_dir / "sessions"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "nanobot.log"

    def ensure(self) -> Paths:
        for d in (self.config_dir, self.data_dir, self.state_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / default


def get_paths() -> Paths:
    home = os.environ.get("NANOBOT_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "state", root / "cache")
    return Paths(
        _xdg("XDG_CONFIG_HOME", ".config") / "nanobot",
        _xdg("XDG_DATA_HOME", ".local/share") / "nanobot",
        _xdg("XDG_STATE_HOME", ".local/state") / "nanobot",
        _xdg("XDG_CACHE_HOME", ".cache") / "nanobot",
    )


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
