"""Session files: the session's event log (:mod:`app.core.store.event_log`), one event per line.

A crash or ``kill -9`` can at worst leave a torn last line; readers skip it (and count it) and the
file is never rewritten in place. Records written by workers carry a ``worker`` field and belong to
the worker's transcript, not to the session's own history.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.agent.events import (
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
from app.core.agent.messages import Message
from app.core.memory.events import MemoryNoted  # noqa: F401 - registers memory events for reading
from app.core.policy.permissions import PermissionRequested  # noqa: F401 - registers permission events for reading
from app.core.policy.redact import redact_value
from app.core.store.event_log import DEFAULT_MAX_BYTES, EventLog, ReadStats, iter_log, parse_line
from app.core.swarm.events import BranchFinished  # noqa: F401 - registers swarm events for reading


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


class SessionStore(EventLog):
    """The single writer of one session's event log."""

    def __init__(self, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 lock: bool = True) -> None:
        super().__init__(path, max_bytes=max_bytes, lock=lock)

    @property
    def session_id(self) -> str:
        return self.path.stem

    @classmethod
    def create(cls, directory: Path, session_id: str | None = None) -> SessionStore:
        return cls(directory / f"{session_id or new_session_id()}.jsonl")

    def append(self, event: Event, **extra: Any) -> int:
        """Log ``event`` (plus ``extra`` fields, e.g. ``worker``); returns its seq (0: not kept).

        Events whose class says ``persist = False`` (live UI snapshots) are not written.
        """
        if not getattr(type(event), "persist", True):
            return 0
        # The transcript is one of the places secrets must never reach, whatever the event holds.
        return self.append_record(redact_value({**to_record(event), **extra}))


@dataclass
class ReadResult:
    events: list[Event]
    skipped: int  # lines that could not be read (torn or corrupt)
    skipped_lines: list[int]


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, record or None when unreadable) over the active file only."""
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            yield lineno, parse_line(line)


def read_session(path: Path, *, worker: str | None = None) -> ReadResult:
    """The session's own events (or, with ``worker``, one worker's), over every rotated segment.

    ``skipped_lines`` are line numbers in the active file, negative for damage in older segments
    (whose line numbers would mislead there).
    """
    events: list[Event] = []
    skipped: list[int] = []
    stats = ReadStats()
    for line in iter_log(path, stats):
        if line.record.get("worker") != worker:
            continue
        try:
            events.append(from_record(line.record))
        except (ValueError, TypeError):
            skipped.append(line.lineno if line.segment == path else -line.lineno)
    for seg_name, lineno in stats.skipped_at:
        skipped.append(lineno if seg_name == path.name else -lineno)
    skipped.sort(key=abs)
    return ReadResult(events, len(skipped) + max(0, stats.skipped - len(stats.skipped_at)),
                      skipped)


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


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in text.splitlines()] if isinstance(text, str) else []
    return next((ln for ln in lines if ln), "")[:80]


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def session_info(path: Path) -> SessionInfo:
    """What the session list shows; any record of any shape is tolerated (a damaged or odd
    record only costs its own contribution, never the listing of every session)."""
    title, model, created, turns = "", "", path.stat().st_mtime, 0
    for line in iter_log(path):
        rec = line.record
        if rec.get("worker") is not None:  # a worker's turns are not the session's
            continue
        kind = rec.get("type")
        if kind == SessionStarted.__name__:
            model = str(rec.get("model", ""))
            created = _number(rec.get("ts"), created)
            title = _first_line(rec.get("title")) or title
        elif kind == TurnStarted.__name__:
            turns += 1
            title = title or _first_line(rec.get("text"))
    return SessionInfo(path.stem, path, title or "(empty)", model, created, path.stat().st_mtime,
                       turns)


def list_sessions(directory: Path) -> list[SessionInfo]:
    if not directory.is_dir():
        return []
    infos: list[SessionInfo] = []
    for p in directory.glob("*.jsonl"):
        try:
            infos.append(session_info(p))
        except OSError:
            continue  # unreadable (permissions) or gone meanwhile: not listable, others are
    return sorted(infos, key=lambda i: i.updated, reverse=True)
