"""The GGUF header reader, on the real bundled model and on synthetic files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.models.gguf import ModelFileError
from app.core.models.gguf_meta import ArraySummary, read_gguf
from tests.gguf_fixture import write_gguf


def test_reads_the_bundled_model(model_path: Path) -> None:
    info = read_gguf(model_path)
    assert info.architecture == "qwen2"
    assert (info.block_count, info.head_count, info.head_count_kv) == (24, 14, 2)
    assert info.key_length == 64 and info.context_length == 32768
    assert info.quantization == "Q4_K_M" and info.has_chat_template
    # 24 layers x 2 KV heads x (64 + 64) x 2 bytes: what llama.cpp allocates per token.
    assert info.kv_bytes_per_token() == 12288
    layers = info.layer_bytes()
    assert len(layers) == 24 and all(b > 0 for b in layers)
    assert sum(layers) < info.weights_bytes <= info.file_size
    assert isinstance(info.metadata["tokenizer.ggml.tokens"], ArraySummary)


def test_synthetic_header_numbers(tmp_path: Path) -> None:
    p = write_gguf(tmp_path / "t.gguf", layers=6, heads=8, kv_heads=4, embedding=512,
                   context=8192, layer_bytes=8192, other_bytes=2048, vocab=5000)
    info = read_gguf(p)
    assert info.block_count == 6 and info.key_length == 64
    assert info.kv_bytes_per_token() == 6 * 4 * 128 * 2
    assert info.layer_bytes() == [8192] * 6
    assert info.weights_bytes == 6 * 8192 + 2048
    assert info.metadata["tokenizer.ggml.tokens"] == ArraySummary(8, 5000)


def test_explicit_key_length_and_per_layer_kv_heads(tmp_path: Path) -> None:
    p = write_gguf(tmp_path / "t.gguf", layers=3, kv_heads=2, extra={
        "llama.attention.key_length": 96, "llama.attention.value_length": 32,
        "llama.attention.head_count_kv": [0, 4, 4]})
    info = read_gguf(p)
    assert info.head_count_kv == 4 and info.key_length == 96 and info.value_length == 32
    assert info.kv_bytes_per_token() == 3 * 4 * (96 + 32) * 2


@pytest.mark.parametrize("content, needle", [
    (b"", "only 0 bytes"),
    (b"PK\x03\x04" + b"\0" * 40, "bad magic"),
    (b"GGUF" + (9).to_bytes(4, "little") + b"\0" * 40, "unsupported GGUF version"),
])
def test_bad_files_are_named(tmp_path: Path, content: bytes, needle: str) -> None:
    p = tmp_path / "bad.gguf"
    p.write_bytes(content)
    with pytest.raises(ModelFileError, match=needle) as err:
        read_gguf(p)
    assert str(p) in str(err.value)


def test_truncated_header(tmp_path: Path) -> None:
    full = write_gguf(tmp_path / "full.gguf", vocab=100).read_bytes()
    p = tmp_path / "cut.gguf"
    p.write_bytes(full[:200])
    with pytest.raises(ModelFileError, match="truncated GGUF header"):
        read_gguf(p)
