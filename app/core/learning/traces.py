"""Traces: one structured record per turn and per process, in a hash-chained JSONL log.

Record kinds (every record also has ``seq``, ``prev``, ``hash``, ``ts``; see :mod:`.chain_log`):

- ``turn``: ``id``, ``session``, ``turn``, ``task`` (the request, secrets redacted),
  ``category`` and ``shape``, ``calls`` (each tool call: ``name``, ``args``, ``ok``,
  ``summary``, ``result`` (cut to 4,000 characters), ``seconds``), ``steps`` (model steps),
  ``seconds``, ``tokens`` (``prompt``, ``completion``), ``status`` (finished, cancelled,
  failed), ``answer``, ``recipe`` (the learned recipe it ran, if any), ``budget``, ``flagged``,
  ``workers`` (``spawned``, ``depth``), ``model``, ``provider`` and ``settings``.
- ``outcome``: ``ref`` (a turn's id), ``success``, ``by`` (``check``: the task's own check,
  ``user``: the 👍/👎 key, ``next_action``: what the user did next, ``status``: the turn failed,
  was cancelled or hit its step limit) and ``note``. Outcomes are appended, never edited in, so
  the chain stays whole; :meth:`TraceStore.turns` folds the newest outcome into its turn.
- ``process``: a million-step process run: ``id``, ``task``, ``category``, ``steps``,
  ``seconds``, ``status``, ``success`` and the settings it ran with.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.learning.chain_log import ChainLog, ChainReport


def new_trace_id() -> str:
    return "tr-" + uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class TraceView:
    """A turn or process record with its latest outcome folded in."""

    record: dict[str, Any]
    success: bool | None = None
    judged_by: str = ""

    @property
    def id(self) -> str:
        return str(self.record.get("id", ""))

    @property
    def kind(self) -> str:
        return str(self.record.get("kind", ""))

    @property
    def category(self) -> str:
        return str(self.record.get("category", ""))

    @property
    def task(self) -> str:
        return str(self.record.get("task", ""))

    @property
    def steps(self) -> int:
        return int(self.record.get("steps", 0) or 0)

    @property
    def seconds(self) -> float:
        return float(self.record.get("seconds", 0.0) or 0.0)

    @property
    def calls(self) -> list[dict[str, Any]]:
        calls = self.record.get("calls") or []
        return [c for c in calls if isinstance(c, dict)]

    @property
    def ts(self) -> float:
        return float(self.record.get("ts", 0.0) or 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {**self.record, "success": self.success, "judged_by": self.judged_by}


class TraceStore:
    def __init__(self, directory: Path, *, keep_days: int = 0) -> None:
        self.log = ChainLog(directory, keep_days=keep_days)

    @property
    def directory(self) -> Path:
        return self.log.directory

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.log.append(record)

    def outcome(self, ref: str, success: bool, by: str, note: str = "") -> dict[str, Any]:
        return self.log.append({"kind": "outcome", "ref": ref, "success": bool(success),
                                "by": by, "note": note})

    def turns(self, *, last: int = 0, category: str = "",
              kinds: tuple[str, ...] = ("turn", "process")) -> list[TraceView]:
        """Turn and process records, newest first, each with its latest outcome."""
        outcomes: dict[str, tuple[bool, str]] = {}
        found: list[dict[str, Any]] = []
        for rec in self.log.records():
            kind = rec.get("kind")
            if kind == "outcome" and isinstance(rec.get("ref"), str):
                outcomes[rec["ref"]] = (bool(rec.get("success")), str(rec.get("by", "")))
            elif kind in kinds and (not category or rec.get("category") == category):
                found.append(rec)
        views = []
        for rec in reversed(found):
            ref = str(rec.get("id", ""))
            success, by = outcomes.get(ref, (rec.get("success"), str(rec.get("judged_by", ""))))
            views.append(TraceView(rec, success if isinstance(success, bool) else None, by))
            if last and len(views) >= last:
                break
        return views

    def find(self, trace_id: str) -> TraceView | None:
        return next((v for v in self.turns() if v.id == trace_id), None)

    def verify(self) -> ChainReport:
        return self.log.verify()
