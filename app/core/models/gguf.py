"""Checks on GGUF files before handing them to llama.cpp."""

from __future__ import annotations

from pathlib import Path

GGUF_MAGIC = b"GGUF"


class ModelFileError(Exception):
    pass


def check_gguf(path: str | Path) -> Path:
    """Return the expanded path, or raise :class:`ModelFileError` naming it and the problem."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelFileError(f"model file not found: {p}")
    if not p.is_file():
        raise ModelFileError(f"model path is not a file: {p}")
    try:
        with p.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {p}: {exc}") from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"not a GGUF file (bad magic {magic!r}): {p}")
    from app.core.models.gguf_meta import missing_bytes, read_gguf  # it imports this module

    missing = missing_bytes(read_gguf(p))  # a damaged header raises, naming the file
    if missing:
        raise ModelFileError(f"truncated GGUF file ({missing:,} bytes of weights missing): {p}")
    return p
