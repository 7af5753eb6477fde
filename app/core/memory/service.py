"""Long-term memory as one object: facts, past sessions, privacy and the rules from ``[memory]``.

Made once per app (the database is shared by every session the app opens) and bound to sessions by
:class:`app.core.memory.hook.MemoryHook`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.memory.db import Database
from app.core.memory.facts import USER, Fact, Source, age_text, project_scope, scope_label
from app.core.memory.past import PastSessions, TurnHit
from app.core.memory.store import Embed, FactHit, FactStore, Remembered
from app.core.settings.config import MemoryConfig


@dataclass
class Recalled:
    facts: list[FactHit] = field(default_factory=list)
    turns: list[TurnHit] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facts or self.turns)


class Memory:
    def __init__(self, path: Path, config: MemoryConfig | None = None, *,
                 embed: Embed | None = None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.config = config or MemoryConfig()
        self.clock = clock
        self.db = Database(path)
        self.facts = FactStore(self.db, embed=embed, merge_similarity=self.config.merge_similarity,
                               clock=clock)
        self.past = PastSessions(self.db, clock=clock)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def scopes(workspace: Path | str) -> list[str]:
        return [USER, project_scope(str(workspace))]

    @property
    def semantic(self) -> bool:
        return self.facts.embed is not None

    # --- what sessions do ------------------------------------------------------------------

    def remember(self, text: str, *, workspace: Path | str, user: bool = False,
                 source: Source | None = None) -> Remembered:
        scope = USER if user else project_scope(str(workspace))
        return self.facts.remember(text, scope, source)

    def recall(self, query: str, *, workspace: Path | str, mode: str = "auto", k: int = 5,
               exclude_session: str = "", sessions: bool = True) -> Recalled:
        """Facts and past turns for ``query``; the facts returned count as used (no decay)."""
        scopes = self.scopes(workspace)
        facts = self.facts.search(query, scopes, mode=mode, k=k,
                                  half_life_days=self.config.half_life_days)
        turns = self.past.search(query, scopes[1:], exclude=exclude_session, k=3) \
            if sessions and self.config.index_sessions else []
        self.facts.mark_used(h.fact.id for h in facts)
        return Recalled(facts, turns)

    def is_private(self, session_id: str) -> bool:
        return self.past.is_private(session_id)

    def set_private(self, session_id: str, private: bool) -> str:
        """Mark a session private (what was already kept from it is dropped) or not again."""
        if not private:
            self.past.set_private(session_id, False)
            return "this session is no longer private: what is said from now on may be remembered"
        turns = self.past.set_private(session_id, True)
        deleted, unlinked = self.facts.drop_session(session_id)
        dropped = [f"{deleted} fact(s)" if deleted else "", f"{turns} indexed message(s)"
                   if turns else ""]
        what = " and ".join(d for d in dropped if d)
        tail = f"; dropped {what} it had given" if what else ""
        kept = f" ({unlinked} fact(s) also said elsewhere are kept)" if unlinked else ""
        return f"this session is private: nothing from it is remembered{tail}{kept}"

    def maintain(self) -> list[Fact]:
        """Decay: forget unpinned facts unused for long."""
        return self.facts.forget_decayed(self.config.half_life_days, self.config.forget_below)

    # --- text for the model ------------------------------------------------------------------

    def fact_line(self, fact: Fact, *, ids: bool = True) -> str:
        head = f"#{fact.id} " if ids else ""
        return (f"- {head}{fact.text} ({scope_label(fact.scope)}, said "
                f"{age_text(fact.updated, self.clock())})")

    def render(self, found: Recalled) -> str:
        if not found:
            return ("Nothing remembered about that. (Facts are kept when someone uses the "
                    "remember tool.)")
        parts: list[str] = []
        if found.facts:
            parts.append("Remembered facts (most relevant first):")
            parts += [self.fact_line(h.fact) for h in found.facts]
        if found.turns:
            parts.append("From past sessions:")
            for t in found.turns:
                day = time.strftime("%Y-%m-%d", time.localtime(t.ts))
                text = " ".join(t.text.split())
                text = text if len(text) <= 300 else text[:299] + "…"
                parts.append(f"- {day}, session {t.session_id}, {t.role}: {text}")
        return "\n".join(parts)
