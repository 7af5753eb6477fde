"""Memory in the turn loop: which session the memory tools act for, facts that match the request
noted before it (auto-recall), and each finished turn indexed as a searchable past session.

One hook per app: the session factory gives it to every main session it makes (``/new`` and resume
keep it), and it re-binds to whichever session runs a turn. Nothing is indexed or remembered from a
private session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.agent.hooks import SessionHook
from app.core.agent.messages import Message
from app.core.memory.db import MemoryDbError
from app.core.memory.events import MemoryNoted
from app.core.memory.facts import content_words
from app.core.memory.service import Memory
from app.core.tools.base import ToolContext

if TYPE_CHECKING:
    from app.core.agent.session import Session
    from app.core.memory.bulletin import Bulletin, BulletinSchedule

log = logging.getLogger(__name__)

NOTE_HEAD = ("Facts remembered from earlier sessions that may help with the next message "
             "(ignore any that do not apply):")


class MemoryHook(SessionHook):
    """One memory for the app: every main session of the factory shares this hook."""

    def __init__(self, memory: Memory, *, on_turn: Callable[[str], None] | None = None) -> None:
        self.memory = memory
        self.session: Session | None = None
        # The memory briefing and its schedule, when the app has them (app/runtime/memory.py).
        self.bulletin: Bulletin | None = None
        self.schedule: BulletinSchedule | None = None
        # The bulletin hears about turn boundaries (it yields the CPU to a turn).
        self.on_turn = on_turn
        self._start = 0
        self._request = ""
        self._noted: dict[str, set[int]] = {}  # per session: facts already noted
        self._note: list[str] = []  # this turn's note lines

    # --- binding -----------------------------------------------------------------------------

    def bind(self, session: Session) -> None:
        self.session = session

    def attach(self, session: Session) -> None:
        # The newest session is the one the memory tools act for until a turn says otherwise.
        self.bind(session)

    @property
    def session_id(self) -> str:
        return self.session.session_id if self.session is not None else ""

    def workspace(self, ctx: ToolContext | None = None) -> Path:
        if self.session is not None:
            return self.session.options.workspace
        return ctx.workspace if ctx is not None else Path.cwd()

    @property
    def private(self) -> bool:
        sid = self.session_id
        return bool(sid) and self.memory.is_private(sid)

    def set_private(self, session: Session, private: bool) -> str:
        self.bind(session)
        return self.memory.set_private(session.session_id, private)

    # --- the loop ----------------------------------------------------------------------------

    def turn_started(self, session: Session, turn_id: str) -> None:
        self.bind(session)
        self._start = len(session.history)  # the turn's user message goes here next
        self._request = ""
        self._note = []
        if self.on_turn is not None:
            self.on_turn("started")

    def before_step(self, session: Session, turn_id: str) -> list[Message]:
        if self._request or len(session.history) <= self._start:
            return []
        first = session.history[self._start]
        self._request = first.content if first.role == "user" else " "
        if self.memory.config.auto_recall > 0 and first.role == "user":
            self._note = self._auto_recall(session, turn_id, first.content)
        return []

    def _auto_recall(self, session: Session, turn_id: str, request: str) -> list[str]:
        words = " ".join(sorted(content_words(request)))
        if not words:
            return []
        try:
            found = self.memory.facts.search(words, self.memory.scopes(session.options.workspace),
                                             mode="auto", k=self.memory.config.auto_recall,
                                             half_life_days=self.memory.config.half_life_days)
        except MemoryDbError:
            log.exception("auto-recall failed")
            return []
        seen = self._noted.setdefault(session.session_id, set())
        fresh = [h.fact for h in found if h.fact.id not in seen]
        if not fresh:
            return []
        seen.update(f.id for f in fresh)
        self.memory.facts.mark_used(f.id for f in fresh)
        lines = [self.memory.fact_line(f, ids=False) for f in fresh]
        session.emit(MemoryNoted(turn_id, facts=tuple(lines)))
        return lines

    def prepare(self, session: Session, messages: list[Message]) -> list[Message]:
        """This turn's note goes just before the user's message (never into history)."""
        if not self._note or session is not self.session:
            return messages
        for i in range(len(messages) - 1, 0, -1):
            m = messages[i]
            if m.role == "user" and m.content == self._request:
                note = Message(role="notice", content=NOTE_HEAD + "\n" + "\n".join(self._note))
                return [*messages[:i], note, *messages[i:]]
        return messages

    def turn_ended(self, session: Session, turn_id: str) -> None:
        try:
            self._index_turn(session, turn_id)
        except MemoryDbError:
            log.exception("could not index the turn")
        self._note = []
        if self.on_turn is not None:
            self.on_turn("ended")

    def _index_turn(self, session: Session, turn_id: str) -> None:
        if not self.memory.config.index_sessions or not self._request.strip():
            return
        answer = next((m.content for m in reversed(session.history[self._start:])
                       if m.role == "assistant" and m.content.strip()), "")
        scopes = self.memory.scopes(session.options.workspace)
        self.memory.past.add_turn(session.session_id, scopes[1], turn_id, self._request, answer)


def memory_of(session: Any) -> MemoryHook | None:
    """The memory hook of a session (the TUI's /memory, /private and /clear reach it here)."""
    return next((h for h in getattr(session, "hooks", ()) if isinstance(h, MemoryHook)), None)
