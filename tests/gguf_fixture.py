"""Write small but valid GGUF files for tests: real headers, a tensor table and zero weights."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _value(v: Any) -> bytes:
    if isinstance(v, bool):
        return struct.pack("<I", 7) + struct.pack("<?", v)
    if isinstance(v, int):
        return struct.pack("<I", 4) + struct.pack("<I", v)
    if isinstance(v, float):
        return struct.pack("<I", 6) + struct.pack("<f", v)
    if isinstance(v, str):
        return struct.pack("<I", 8) + _s(v)
    if isinstance(v, list):
        if v and isinstance(v[0], str):
            return struct.pack("<I", 9) + struct.pack("<IQ", 8, len(v)) + b"".join(_s(x) for x in v)
        return struct.pack("<I", 9) + struct.pack("<IQ", 5, len(v)) + b"".join(
            struct.pack("<i", x) for x in v)
    raise TypeError(v)


def write_gguf(path: Path, *, arch: str = "llama", layers: int = 4, heads: int = 8,
               kv_heads: int = 2, embedding: int = 256, context: int = 4096,
               layer_bytes: int = 4096, other_bytes: int = 1024, file_type: int = 15,
               name: str = "Tiny Test", extra: dict[str, Any] | None = None,
               vocab: int = 0) -> Path:
    """A GGUF v3 with ``layers`` blocks of ``layer_bytes`` each plus an embedding tensor."""
    meta: dict[str, Any] = {
        "general.architecture": arch, "general.name": name, "general.file_type": file_type,
        f"{arch}.block_count": layers, f"{arch}.context_length": context,
        f"{arch}.embedding_length": embedding, f"{arch}.attention.head_count": heads,
        f"{arch}.attention.head_count_kv": kv_heads,
        "tokenizer.chat_template": "{{ messages }}",
    }
    if vocab:
        meta["tokenizer.ggml.tokens"] = [f"t{i}" for i in range(vocab)]
    meta.update(extra or {})
    tensors: list[tuple[str, int]] = [("token_embd.weight", other_bytes)]
    for i in range(layers):
        tensors.append((f"blk.{i}.attn_q.weight", layer_bytes // 2))
        tensors.append((f"blk.{i}.ffn_up.weight", layer_bytes - layer_bytes // 2))
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
    for k, v in meta.items():
        out += _s(k) + _value(v)
    offset = 0
    for name_, nbytes in tensors:
        # One dimension of F32 (type 0): nbytes / 4 elements, as a real file would say.
        out += _s(name_) + struct.pack("<I", 1) + struct.pack("<Q", nbytes // 4) + struct.pack(
            "<I", 0)
        out += struct.pack("<Q", offset)
        offset += nbytes
    out += b"\0" * ((32 - len(out) % 32) % 32)
    out += b"\0" * offset
    path.write_bytes(bytes(out))
    return path


def write_lora_adapter(path: Path, tensors: dict[str, tuple[list[float], list[float], int, int]],
                       *, arch: str = "qwen2", alpha: float = 0.0,
                       general_type: str = "adapter") -> Path:
    """A GGUF LoRA adapter as llama.cpp's convert_lora_to_gguf.py lays it out: metadata
    (general.type = adapter, adapter.type = lora, adapter.lora.alpha) and, per adapted weight
    ``NAME`` of shape [n_in, n_out], F32 tensors ``NAME.lora_a`` [n_in, r] and ``NAME.lora_b``
    [r, n_out] (ggml order). ``tensors`` maps NAME to (a values, b values, n_in, n_out), r = 1."""
    meta: dict[str, Any] = {"general.architecture": arch, "general.type": general_type,
                            "adapter.type": "lora", "adapter.lora.alpha": alpha}
    table: list[tuple[str, tuple[int, int], bytes]] = []
    for name, (a, b, n_in, n_out) in tensors.items():
        assert len(a) == n_in and len(b) == n_out
        table.append((f"{name}.lora_a", (n_in, 1), struct.pack(f"<{n_in}f", *a)))
        table.append((f"{name}.lora_b", (1, n_out), struct.pack(f"<{n_out}f", *b)))
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(table), len(meta)))
    for k, v in meta.items():
        out += _s(k) + _value(v)
    offset, data = 0, bytearray()
    for name, shape, raw in table:
        out += _s(name) + struct.pack("<I", 2) + struct.pack("<QQ", *shape)
        out += struct.pack("<I", 0) + struct.pack("<Q", offset)  # type 0 = F32
        pad = (32 - len(raw) % 32) % 32
        data += raw + b"\0" * pad
        offset += len(raw) + pad
    out += b"\0" * ((32 - len(out) % 32) % 32)
    path.write_bytes(bytes(out + data))
    return path
