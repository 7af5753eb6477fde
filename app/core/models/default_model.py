"""Which bundled model an empty ``main`` slot runs on this machine, chosen from measurements.

The choice is between the two bundled models, by what ``bench/agent_tasks.py`` measured (see
BENCHMARKS.md, "Agent tasks"): the larger model does more of the job, the smaller one answers in
about a third of the time. The larger one is chosen where it is installed and the machine has the
cores to keep its answers quick and the memory to hold it next to everything else.
"""

from __future__ import annotations

import importlib.util
import os

import psutil

from app.core.models.embedded import DEFAULT_MODEL_ID, catalog

LARGER_MODEL_ID = "qwen2.5-coder-1.5b"
# On 2 cores the larger model's median task time is above the 10 s a task should take (measured,
# BENCHMARKS.md); from 4 cores generation and prompt evaluation are about twice as fast.
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
