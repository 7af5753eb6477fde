"""Past sessions, searchable: each finished turn's request and answer indexed with its session,
turn and date; and the sessions the user marked private (never indexed, never remembered from).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.core.memory.db import Database
from app.core.memory.facts import match_query

MAX_TEXT = 2000  # of one request or answer in the index


@dataclass(frozen=True)
class TurnHit:
    session_id: str
    turn_id: str
    ts: float
    role: str  # "user" or "assistant"
    text: str
    score: float


@dataclass
class SessionDigest:
    """A past session in brief, for the memory briefing."""

    session_id: str
    first_ts: float
    last_ts: float
    requests: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


class PastSessions:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    # --- privacy ---------------------------------------------------------------------------

    def set_private(self, session_id: str, private: bool) -> int:
        """Mark a session private (its indexed turns are deleted; returns how many) or not."""
        with self.db.tx() as c:
            if not private:
                c.execute("DELETE FROM private_sessions WHERE session_id=?", (session_id,))
                return 0
            c.execute("INSERT OR IGNORE INTO private_sessions(session_id, ts) VALUES (?,?)",
                      (session_id, self.clock()))
            return c.execute("DELETE FROM turns WHERE session_id=?", (session_id,)).rowcount

    def is_private(self, session_id: str) -> bool:
        with self.db.lock:
            return self.db.conn.execute("SELECT 1 FROM private_sessions WHERE session_id=?",
                                        (session_id,)).fetchone() is not None

    # --- the index -------------------------------------------------------------------------

    def add_turn(self, session_id: str, scope: str, turn_id: str, request: str,
                 answer: str) -> bool:
        """Index one finished turn (nothing for a private session); returns whether it was."""
        if self.is_private(session_id):
            return False
        now = self.clock()
        rows = [(session_id, scope, turn_id, now, role, text.strip()[:MAX_TEXT])
                for role, text in (("user", request), ("assistant", answer)) if text.strip()]
        with self.db.tx() as c:
            c.execute("DELETE FROM turns WHERE session_id=? AND turn_id=?", (session_id, turn_id))
            c.executemany("INSERT INTO turns(session_id, scope, turn_id, ts, role, text) "
                          "VALUES (?,?,?,?,?,?)", rows)
        return bool(rows)

    def forget_session(self, session_id: str) -> int:
        with self.db.tx() as c:
            return c.execute("DELETE FROM turns WHERE session_id=?", (session_id,)).rowcount

    def search(self, query: str, scopes: Sequence[str], *, exclude: str = "",
               k: int = 5) -> list[TurnHit]:
        match = match_query(query)
        if match is None:
            return []
        marks = ",".join("?" * len(scopes))
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT t.*, bm25(turns_fts) AS s FROM turns_fts JOIN turns t ON t.id = "
                f"turns_fts.rowid WHERE turns_fts MATCH ? AND t.scope IN ({marks}) "
                "AND t.session_id != ? ORDER BY s LIMIT ?",
                (match, *scopes, exclude, k)).fetchall()
        return [TurnHit(r["session_id"], r["turn_id"], float(r["ts"]), r["role"], r["text"],
                        -float(r["s"])) for r in rows]

    def recent(self, scopes: Sequence[str], *, sessions: int = 3, turns: int = 4,
               exclude: str = "") -> list[SessionDigest]:
        """The newest ``sessions`` sessions (their last ``turns`` turns each), newest first."""
        marks = ",".join("?" * len(scopes))
        with self.db.lock:
            ids = [r[0] for r in self.db.conn.execute(
                f"SELECT session_id, max(ts) AS last FROM turns WHERE scope IN ({marks}) "
                "AND session_id != ? GROUP BY session_id ORDER BY last DESC LIMIT ?",
                (*scopes, exclude, sessions)).fetchall()]
            out = []
            for sid in ids:
                rows = self.db.conn.execute(
                    "SELECT * FROM turns WHERE session_id=? ORDER BY ts DESC, id DESC LIMIT ?",
                    (sid, turns * 2)).fetchall()
                rows = list(reversed(rows))
                digest = SessionDigest(sid, float(rows[0]["ts"]), float(rows[-1]["ts"]))
                for r in rows:
                    (digest.requests if r["role"] == "user" else digest.answers).append(r["text"])
                out.append(digest)
        return out

    def count(self) -> int:
        with self.db.lock:
            return int(self.db.conn.execute(
                "SELECT count(DISTINCT session_id) FROM turns").fetchone()[0])
