"""Messages typed while a turn runs (steers and queued prompts), kept on disk until delivered.

A crash between typing a message and the model seeing it must lose nothing: every change rewrites a
small JSON file next to the session file (atomically), and a resumed session shows them again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from app.core.settings.paths import atomic_write_text

log = logging.getLogger(__name__)

Kind = Literal["steer", "queue"]


@dataclass(frozen=True)
class PendingItem:
    kind: Kind
    text: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


class PendingStore:
    """An ordered list of pending items, mirrored to ``path`` (None = memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._items: list[PendingItem] = []
        if path is not None and path.exists():
            self._items = _load(path)

    @classmethod
    def for_session(cls, session_file: Path | None) -> PendingStore:
        if session_file is None:
            return cls(None)
        return cls(session_file.with_suffix(".pending.json"))

    def __iter__(self) -> Iterator[PendingItem]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def items(self, kind: Kind | None = None) -> list[PendingItem]:
        return [i for i in self._items if kind is None or i.kind == kind]

    def add(self, kind: Kind, text: str) -> PendingItem:
        item = PendingItem(kind, text)
        self._items.append(item)
        self._save()
        return item

    def remove(self, item_id: str) -> PendingItem | None:
        for i, item in enumerate(self._items):
            if item.id == item_id:
                del self._items[i]
                self._save()
                return item
        return None

    def pop_last(self) -> PendingItem | None:
        if not self._items:
            return None
        item = self._items.pop()
        self._save()
        return item

    def first(self, kind: Kind, text: str | None = None) -> PendingItem | None:
        for item in self._items:
            if item.kind == kind and (text is None or item.text == text):
                return item
        return None

    def convert(self, kind_from: Kind, kind_to: Kind) -> int:
        """Turn every ``kind_from`` item into ``kind_to`` (undelivered steers become queued)."""
        n = 0
        for i, item in enumerate(self._items):
            if item.kind == kind_from:
                self._items[i] = PendingItem(kind_to, item.text, item.id)
                n += 1
        if n:
            self._save()
        return n

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            if not self._items:
                self.path.unlink(missing_ok=True)
                return
            atomic_write_text(self.path, json.dumps([asdict(i) for i in self._items],
                                                    ensure_ascii=False, indent=1))
        except OSError:
            log.exception("could not save pending messages to %s", self.path)


def _load(path: Path) -> list[PendingItem]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("pending messages file %s is unreadable; ignored", path)
        return []
    items: list[PendingItem] = []
    for rec in raw if isinstance(raw, list) else []:
        if isinstance(rec, dict) and rec.get("kind") in ("steer", "queue") and isinstance(
                rec.get("text"), str):
            items.append(PendingItem(rec["kind"], rec["text"], str(rec.get("id") or "")
                                     or uuid.uuid4().hex[:8]))
    return items
