"""Session files: append-only JSONL, one event per line, flushed per event.

A crash or ``kill -9`` can at worst leave a torn last line; readers skip it (and count it) and the
file is never rewritten in place.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from app.core.events import (
    Event,
    MessageAdded,
    SessionStarted,
    TextDelta,
    TurnCancelled,
    TurnFinished,
    TurnStarted,
    from_record,
    to_record,
)
from app.core.messages import Message
from app.core.permissions import PermissionRequested  # noqa: F401 - registers permission events for reading
from app.core.redact import redact_value


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


class SessionStore:
    """The single writer of one session file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = None

    @property
    def session_id(self) -> str:
        return self.path.stem

    @classmethod
    def create(cls, directory: Path, session_id: str | None = None) -> SessionStore:
        return cls(directory / f"{session_id or new_session_id()}.jsonl")

    def append(self, event: Event) -> None:
        if self._fh is None:
            # Start on a fresh line in case the previous writer died mid-line.
            needs_nl = self.path.exists() and self.path.stat().st_size > 0 and not _ends_nl(
                self.path)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open
            if needs_nl:
                self._fh.write("\n")
        # The transcript is one of the places secrets must never reach, whatever the event holds.
        self._fh.write(json.dumps(redact_value(to_record(event)), ensure_ascii=False) + "\n")
        self._fh.flush()

    def sync(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _ends_nl(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


@dataclass
class ReadResult:
    events: list[Event]
    skipped: int  # lines that could not be read (torn or corrupt)
    skipped_lines: list[int]


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                yield lineno, None
                continue
            yield lineno, rec if isinstance(rec, dict) else None


def read_session(path: Path) -> ReadResult:
    events: list[Event] = []
    skipped: list[int] = []
    for lineno, rec in iter_records(path):
        if rec is None:
            skipped.append(lineno)
            continue
        try:
            events.append(from_record(rec))
        except (ValueError, TypeError):
            skipped.append(lineno)
    return ReadResult(events, len(skipped), skipped)


def history_from_events(events: list[Event]) -> list[Message]:
    """Rebuild the canonical history; a turn cut off by a crash keeps its streamed text."""
    history: list[Message] = []
    open_turn: str | None = None
    partial: list[str] = []
    for ev in events:
        if isinstance(ev, TurnStarted):
            open_turn, partial = ev.turn_id, []
        elif isinstance(ev, MessageAdded):
            history.append(ev.message)
            if ev.message.role in ("assistant", "tool"):
                partial = []
        elif isinstance(ev, TextDelta) and ev.turn_id == open_turn:
            partial.append(ev.text)
        elif isinstance(ev, TurnFinished | TurnCancelled):
            open_turn, partial = None, []
    if open_turn is not None and "".join(partial).strip():
        history.append(Message(role="assistant", content="".join(partial), cancelled=True))
    return history


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    path: Path
    title: str
    model: str
    created: float
    updated: float
    turns: int


def session_info(path: Path) -> SessionInfo:
    title, model, created, turns = "", "", path.stat().st_mtime, 0
    for _, rec in iter_records(path):
        if rec is None:
            continue
        kind = rec.get("type")
        if kind == SessionStarted.__name__:
            model = str(rec.get("model", ""))
            created = float(rec.get("ts", created))
            title = str(rec.get("title", "")) or title
        elif kind == TurnStarted.__name__:
            turns += 1
            if not title:
                title = str(rec.get("text", "")).strip().splitlines()[0][:80] if rec.get(
                    "text") else ""
    return SessionInfo(path.stem, path, title or "(empty)", model, created, path.stat().st_mtime,
                       turns)


def list_sessions(directory: Path) -> list[SessionInfo]:
    if not directory.exists():
        return []
    infos = [session_info(p) for p in directory.glob("*.jsonl")]
    return sorted(infos, key=lambda i: i.updated, reverse=True)
