"""Which bundled model an empty ``main`` slot runs on this machine, chosen from measurements.

The choice is between the two bundled models, by what BENCHMARKS.md records. Without the agent
harness the larger model got more tool prompts right (``bench/toolcalls.py``: 17/22 final answers
against 11/22) at about 15 s per prompt against 4 s, and it was chosen on machines with 4+ cores
and 8+ GiB where its parts were installed. With the harness, on the 71 tasks of
``bench/agent_tasks.py``, it is not ahead: 57/71 with 7 unsupported claims against the smaller
model's 60/71 with 2, at four times the seconds per task. So the smaller model is the default on
every machine; the larger one runs when a slot or ``--model`` names it.
"""

from __future__ import annotations

import importlib.util

from app.core.models.embedded import DEFAULT_MODEL_ID, catalog

LARGER_MODEL_ID = "qwen2.5-coder-1.5b"


def installed(model_id: str) -> bool:
    """Whether the packages holding ``model_id``'s parts are installed (nothing is read)."""
    model = catalog().get(model_id)
    if model is None:
        return False
    return all(importlib.util.find_spec(module) is not None for module, _ in model.parts)


def default_model_id(*, cores: int | None = None, ram: int | None = None) -> str:
    """The bundled model for this machine (``cores``/``ram`` default to the machine's own): the
    smaller one, whatever the machine, until a measurement shows the larger one ahead (see the
    module's docstring); the arguments keep the place where a per-machine rule goes."""
    del cores, ram
    return DEFAULT_MODEL_ID
