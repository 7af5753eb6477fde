"""Read a GGUF file's key/value metadata (name, chat template …) without loading the model.

Large arrays (the tokenizer's vocabulary) are skipped, not materialised, so reading the chat
template of a 500 MB model takes a fraction of a second and no llama.cpp context.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from app.core.models.gguf import GGUF_MAGIC, ModelFileError

_SCALARS: dict[int, tuple[str, int]] = {
    0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
    6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8),
}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 64 << 20  # a sane bound: a longer "string" means a corrupt file


def _read(fh: BinaryIO, n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise ModelFileError("GGUF metadata ends early (truncated file)")
    return data


def _u64(fh: BinaryIO) -> int:
    value: int = struct.unpack("<Q", _read(fh, 8))[0]
    return value


def _string(fh: BinaryIO, keep: bool = True) -> str:
    n = _u64(fh)
    if n > _MAX_STRING:
        raise ModelFileError(f"GGUF string of {n} bytes: corrupt metadata")
    if not keep:
        fh.seek(n, 1)
        return ""
    return _read(fh, n).decode("utf-8", errors="replace")


def _value(fh: BinaryIO, vtype: int, keep: bool) -> Any:
    if vtype in _SCALARS:
        fmt, size = _SCALARS[vtype]
        return struct.unpack(fmt, _read(fh, size))[0]
    if vtype == _STRING:
        return _string(fh, keep)
    if vtype == _ARRAY:
        itype = struct.unpack("<I", _read(fh, 4))[0]
        count = _u64(fh)
        if itype in _SCALARS and not keep:
            fh.seek(_SCALARS[itype][1] * count, 1)
            return None
        items = [_value(fh, itype, keep) for _ in range(count)]
        return items if keep else None
    raise ModelFileError(f"unknown GGUF value type {vtype}")


def read_gguf_metadata(path: str | Path, keys: set[str] | None = None) -> dict[str, Any]:
    """Metadata of ``path``; with ``keys`` only those are returned (and read stops early)."""
    p = Path(path)
    out: dict[str, Any] = {}
    with p.open("rb") as fh:
        if _read(fh, 4) != GGUF_MAGIC:
            raise ModelFileError(f"not a GGUF file: {p}")
        version = struct.unpack("<I", _read(fh, 4))[0]
        if version < 2:
            raise ModelFileError(f"GGUF version {version} is too old: {p}")
        _u64(fh)  # tensor count
        kv_count = _u64(fh)
        for _ in range(kv_count):
            key = _string(fh)
            vtype = struct.unpack("<I", _read(fh, 4))[0]
            wanted = keys is None or key in keys
            value = _value(fh, vtype, wanted)
            if wanted:
                out[key] = value
                if keys is not None and keys <= out.keys():
                    break
    return out


def chat_template(path: str | Path) -> str:
    """The GGUF's own Jinja chat template ("" when it has none)."""
    meta = read_gguf_metadata(path, {"tokenizer.chat_template"})
    value = meta.get("tokenizer.chat_template", "")
    return value if isinstance(value, str) else ""
