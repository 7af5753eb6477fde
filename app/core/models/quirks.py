"""Per-model quirks from the catalog (``assets/catalog.json``), matched by GGUF metadata.

This is the one place that maps a model's identity to behaviour. Code elsewhere reads the
resulting :class:`ModelQuirks` (and the provider's ``Capabilities``), never a model name.

A catalog entry (under ``models`` or ``embedded``) may carry::

    "match": ["nanbeige4.1-3b*"],          # globs over normalised general.name / file name
    "capabilities": {"always_reasons": true, "think_prefill": "<think>\\n</think>\\n\\n",
                     "tool_call_format": "tags", "grammar_tool_calls": false, ...},
    "sampling": {"top_p": 0.95, "repeat_penalty": 1.0}

Unknown keys are kept in ``extra`` so the hardware/catalog work can extend entries freely.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_NAME_KEYS = {"general.name", "general.basename", "general.size_label", "general.finetune"}


@dataclass(frozen=True)
class ModelQuirks:
    """What the loop and the provider must do differently for one model."""

    model_id: str = ""
    grammar_tool_calls: bool = True  # constrain the first token to "JSON call or text"
    supports_thinking: bool = False
    tool_nudge: bool = False
    always_reasons: bool = False  # reasons before every answer, whatever it is told
    think_prefill: str = ""  # assistant prefill that closes the reasoning block
    tool_call_format: str = "json"  # "json": bare JSON (grammar); "tags": <tool_call>{json}</tool_call>
    core_tools: tuple[str, ...] = ()  # tools offered by default (empty = all)
    small: bool = False  # a small model: the harness votes on its small decisions
    sampling: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_capabilities(cls, model_id: str, caps: dict[str, Any],
                          sampling: dict[str, Any] | None = None) -> ModelQuirks:
        known = {f for f in cls.__dataclass_fields__ if f not in ("model_id", "sampling", "extra")}
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in caps.items() if k in known}
        extra = {k: v for k, v in caps.items() if k not in known}
        return cls(model_id=model_id, sampling={k: float(v) for k, v in (sampling or {}).items()},
                   extra=extra, **kwargs)


def _catalog() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        resources.files("assets").joinpath("catalog.json").read_text("utf-8"))
    return raw


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def _entries() -> list[tuple[str, dict[str, Any]]]:
    cat = _catalog()
    return [*cat.get("models", {}).items(), *cat.get("embedded", {}).items()]


def quirks_by_id(model_id: str) -> ModelQuirks | None:
    for mid, entry in _entries():
        if mid == model_id:
            return ModelQuirks.from_capabilities(mid, entry.get("capabilities", {}),
                                                 entry.get("sampling"))
    return None


def match_quirks(metadata: dict[str, Any], filename: str = "") -> ModelQuirks | None:
    """The catalog entry whose ``match`` globs fit this model's name or file name."""
    names = []
    name = str(metadata.get("general.name") or "")
    if name:
        names.append(_norm(name))
    base, size = metadata.get("general.basename"), metadata.get("general.size_label")
    if base:
        names.append(_norm(f"{base}-{size}" if size else str(base)))
    if filename:
        names.append(_norm(Path(filename).stem))
    for mid, entry in _entries():
        for pattern in entry.get("match", []):
            pat = _norm(str(pattern))
            if any(fnmatch.fnmatchcase(n, pat) for n in names):
                return ModelQuirks.from_capabilities(mid, entry.get("capabilities", {}),
                                                     entry.get("sampling"))
    return None


def quirks_for_gguf(path: str | Path) -> ModelQuirks | None:
    """Match a GGUF file against the catalog by its metadata (read without loading it)."""
    from app.core.models.gguf_meta import read_gguf_metadata

    try:
        meta = read_gguf_metadata(path, set(_NAME_KEYS))
    except Exception as exc:  # an unreadable header only means "no known quirks"
        log.info("could not read GGUF metadata of %s: %s", path, exc)
        meta = {}
    return match_quirks(meta, str(path))
