"""Volume versions: one ingest at a time per name, and an atomic switch to a new version.

``volumes/NAME`` is a symlink to ``volumes/.NAME.gN-…``; a new version is written beside the old
one and the link replaced with ``os.replace``, so readers see either the old volume or the new one,
and a failed ingest leaves the old one untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.context_store import layout
from app.core.context_store.errors import VolumeError


@contextmanager
def locked(root: Path, name: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / f".{name}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise VolumeError(f"another ingest of volume {name!r} is running") from exc
        yield


def switch(root: Path, name: str, target: Path) -> None:
    """Point ``root/name`` at ``target`` atomically; remove the previous version."""
    link = root / name
    previous: Path | None = None
    if link.is_symlink():
        previous = root / os.readlink(link)
    elif link.exists():
        raise VolumeError(f"{link} exists and is not a volume link; move it away first")
    tmp = root / f".{name}.link-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(target.name, tmp)
    os.replace(tmp, link)
    if previous is not None and previous.resolve() != target.resolve():
        shutil.rmtree(previous, ignore_errors=True)


def delete_volume(root: Path, name: str) -> None:
    layout.check_name(name)
    link = root / name
    if not link.is_symlink():
        raise VolumeError(f"volume {name!r} not found")
    with locked(root, name):
        target = root / os.readlink(link)
        link.unlink()
        shutil.rmtree(target, ignore_errors=True)
