"""Which bundled model an empty ``main`` slot runs on this machine, chosen from measurements.

The choice is between the two bundled models, by what BENCHMARKS.md records: on 2 threads the
larger model gets more tool prompts right (``bench/toolcalls.py``: 17/22 final answers against
11/22) but takes about 15 s per prompt against 4 s. The larger one is chosen where it is installed
and the machine has the cores to keep its answers quick and the memory to hold it next to
everything else.
"""

from __future__ import annotations

import importlib.util
import os

import psutil

from app.core.models.embedded import DEFAULT_MODEL_ID, catalog

LARGER_MODEL_ID = "qwen2.5-coder-1.5b"
# On 2 cores the larger model takes about 15 s per prompt (bench/toolcalls.py, BENCHMARKS.md),
# above the 10 s a task should take; with 4+ cores llama.cpp has twice the threads for it (not
# measured here: this machine has 2).
LARGER_MIN_CORES = 4
LARGER_MIN_RAM = 8 << 30  # bytes: its 1.1 GB file, an 8K context, and room for the rest


def installed(model_id: str) -> bool:
    """Whether the packages holding ``model_id``'s parts are installed (nothing is read)."""
    model = catalog().get(model_id)
    if model is None:
        return False
    return all(importlib.util.find_spec(module) is not None for module, _ in model.parts)


def default_model_id(*, cores: int | None = None, ram: int | None = None) -> str:
    """The bundled model for this machine (``cores``/``ram`` default to the machine's own)."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    ram = ram if ram is not None else int(psutil.virtual_memory().total)
    if cores >= LARGER_MIN_CORES and ram >= LARGER_MIN_RAM and installed(LARGER_MODEL_ID):
        return LARGER_MODEL_ID
    return DEFAULT_MODEL_ID
