"""Read a GGUF file's header: metadata keys and the tensor table, never the weights.

The fit maths needs a model's own numbers (layers, KV heads, head size, trained context, bytes per
layer) before anything is loaded. The file is memory-mapped and only the header pages are touched,
so a 20 GB model is inspected in milliseconds. Big arrays (the tokenizer's vocabulary) are skipped,
keeping only their element type and length.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.models.gguf import GGUF_MAGIC, ModelFileError

# GGUF value types (gguf.h).
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY = range(10)
_UINT64, _INT64, _FLOAT64 = 10, 11, 12
_SCALARS: dict[int, str] = {
    _UINT8: "<B", _INT8: "<b", _UINT16: "<H", _INT16: "<h", _UINT32: "<I", _INT32: "<i",
    _FLOAT32: "<f", _BOOL: "<?", _UINT64: "<Q", _INT64: "<q", _FLOAT64: "<d",
}
# Arrays longer than this are summarised, not materialised (vocabularies run to 150k entries).
MAX_ARRAY_KEEP = 4096

# llama.cpp's LLAMA_FTYPE values: what ``general.file_type`` says about the quantisation.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
}


@dataclass(frozen=True)
class ArraySummary:
    """A long array left unread: its element type and length."""

    item_type: int
    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the data section
    nbytes: int


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    file_size: int
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_offset: int

    def _arch_key(self, suffix: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{suffix}")

    def _int(self, suffix: str, default: int = 0) -> int:
        value = self._arch_key(suffix)
        if isinstance(value, list | tuple):  # per-layer values (some architectures): the largest
            value = max((int(v) for v in value), default=default)
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else default

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name", "") or self.path.stem)

    @property
    def block_count(self) -> int:
        return self._int("block_count")

    @property
    def head_count(self) -> int:
        return self._int("attention.head_count")

    @property
    def head_count_kv(self) -> int:
        return self._int("attention.head_count_kv") or self.head_count

    @property
    def embedding_length(self) -> int:
        return self._int("embedding_length")

    @property
    def key_length(self) -> int:
        explicit = self._int("attention.key_length")
        if explicit:
            return explicit
        return self.embedding_length // self.head_count if self.head_count else 0

    @property
    def value_length(self) -> int:
        return self._int("attention.value_length") or self.key_length

    @property
    def context_length(self) -> int:
        return self._int("context_length")

    @property
    def expert_count(self) -> int:
        return self._int("expert_count")

    @property
    def quantization(self) -> str:
        ft = self.metadata.get("general.file_type")
        return FILE_TYPES.get(int(ft), f"type {ft}") if isinstance(ft, int) else ""

    @property
    def has_chat_template(self) -> bool:
        return bool(self.metadata.get("tokenizer.chat_template"))

    def kv_bytes_per_token(self, cache_type_bytes: float = 2.0) -> int:
        """K and V for one token across all layers (f16 cache by default: 2 bytes/element)."""
        per_layer = self.head_count_kv * (self.key_length + self.value_length)
        return int(self.block_count * per_layer * cache_type_bytes)

    def layer_bytes(self) -> list[int]:
        """Weight bytes of each repeating block ``blk.N.*`` (index = layer number)."""
        sizes = [0] * self.block_count
        for t in self.tensors:
            if t.name.startswith("blk."):
                idx = t.name.split(".", 2)[1]
                if idx.isdigit() and int(idx) < len(sizes):
                    sizes[int(idx)] += t.nbytes
        return sizes

    @property
    def weights_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors) or max(0, self.file_size - self.data_offset)

    def summary(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "name": self.name, "architecture": self.architecture,
            "file_size": self.file_size, "quantization": self.quantization,
            "layers": self.block_count, "heads": self.head_count, "kv_heads": self.head_count_kv,
            "head_size": self.key_length, "context_length": self.context_length,
            "experts": self.expert_count, "kv_bytes_per_token": self.kv_bytes_per_token(),
            "chat_template": self.has_chat_template,
        }


class _Cursor:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise ModelFileError(f"truncated GGUF header in {self.path} (at byte {self.pos})")
        out = self.buf[self.pos:end]
        self.pos = end
        return out

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        return self.take(n).decode("utf-8", "replace")

    def skip_string(self) -> None:
        n = self.unpack("<Q")
        self.take(n)

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.unpack("<I")
            length = self.unpack("<Q")
            if length > MAX_ARRAY_KEEP:
                self.skip_array(item_type, length)
                return ArraySummary(item_type, length)
            return [self.value(item_type) for _ in range(length)]
        raise ModelFileError(f"unknown GGUF value type {vtype} in {self.path}")

    def skip_array(self, item_type: int, length: int) -> None:
        if item_type in _SCALARS:
            self.take(struct.calcsize(_SCALARS[item_type]) * length)
        elif item_type == _STRING:
            for _ in range(length):
                self.skip_string()
        else:
            for _ in range(length):
                self.value(item_type)


def read_gguf(path: str | Path, *, total_size: int | None = None) -> GGUFInfo:
    """Parse the header of a GGUF file; raises :class:`ModelFileError` naming the file.

    ``total_size`` reads the header from the first part of a split file (the embedded model's
    parts) while sizing tensors against the whole.
    """
    p = Path(path).expanduser()
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            if size < 24:
                raise ModelFileError(f"not a GGUF file (only {size} bytes): {p}")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(_Cursor(buf, p), p, total_size or size)
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {p}: {exc}") from exc
    except (struct.error, UnicodeDecodeError, ValueError, MemoryError) as exc:
        raise ModelFileError(f"damaged GGUF header in {p}: {exc}") from exc


def _parse(cur: _Cursor, path: Path, size: int) -> GGUFInfo:
    magic = cur.take(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"not a GGUF file (bad magic {magic!r}): {path}")
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise ModelFileError(f"unsupported GGUF version {version} in {path} (expected 2 or 3)")
    n_tensors = cur.unpack("<Q")
    n_kv = cur.unpack("<Q")
    if n_kv > 1_000_000 or n_tensors > 10_000_000:
        raise ModelFileError(f"implausible GGUF header in {path}: {n_kv} keys, {n_tensors} tensors")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.unpack("<I"))
    raw: list[tuple[str, tuple[int, ...], int, int]] = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.unpack("<I")
        shape = tuple(cur.unpack("<Q") for _ in range(n_dims))
        ggml_type = cur.unpack("<I")
        offset = cur.unpack("<Q")
        raw.append((name, shape, ggml_type, offset))
    align = metadata.get("general.alignment", 32)
    align = align if isinstance(align, int) and align > 0 else 32
    data_offset = (cur.pos + align - 1) // align * align
    data_len = max(0, size - data_offset)
    # Tensor sizes from the gaps between sorted offsets: exact for any quant type, no type table.
    ordered = sorted(range(len(raw)), key=lambda i: raw[i][3])
    nbytes = [0] * len(raw)
    for pos, i in enumerate(ordered):
        nxt = raw[ordered[pos + 1]][3] if pos + 1 < len(ordered) else data_len
        nbytes[i] = max(0, nxt - raw[i][3])
    tensors = tuple(TensorInfo(n, s, t, o, nbytes[i]) for i, (n, s, t, o) in enumerate(raw))
    return GGUFInfo(path=path, file_size=size, version=version, metadata=metadata,
                    tensors=tensors, data_offset=data_offset)


# ggml type -> (elements per block, bytes per block), for the types whose size is certain.
TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 20: (32, 18), 23: (256, 136), 30: (1, 2),
}


def missing_bytes(info: GGUFInfo) -> int:
    """Bytes of tensor data the file lacks (0: complete, as far as its tensor table tells).

    A tensor that starts past the end of the file is missing whole; the last tensor is sized
    from its type where the type's block size is known.
    """
    data_len = info.file_size - info.data_offset
    if data_len < 0:
        return -data_len
    if not info.tensors:
        return 0
    last = max(info.tensors, key=lambda t: t.offset)
    if last.offset > data_len:
        return last.offset - data_len
    size = TYPE_SIZES.get(last.ggml_type)
    if size is None:
        return 0
    elements = 1
    for dim in last.shape:
        elements *= dim
    return max(0, -(-elements // size[0]) * size[1] - last.nbytes)


def read_gguf_metadata(path: str | Path, keys: set[str] | None = None) -> dict[str, Any]:
    """Metadata of ``path``; with ``keys`` only those (model quirks and template probing)."""
    meta = read_gguf(path).metadata
    return dict(meta) if keys is None else {k: v for k, v in meta.items() if k in keys}


def chat_template(path: str | Path) -> str:
    """The GGUF's own Jinja chat template ("" when it has none)."""
    value = read_gguf_metadata(path, {"tokenizer.chat_template"}).get("tokenizer.chat_template")
    return value if isinstance(value, str) else ""
