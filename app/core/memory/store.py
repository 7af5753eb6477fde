"""Long-term facts: remember (merging duplicates), search (BM25, or fused with embeddings when the
dense layer is installed), list, edit, pin, delete, decay; and which sessions are private.

A fact lives in a scope: ``user`` (about the user, seen from every project) or the project it was
said in. Searches from a project see the user's facts and that project's.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.memory.db import Database
from app.core.memory.facts import (
    USER,
    Fact,
    Source,
    clean_fact,
    match_query,
    normalize,
    similarity,
    weight,
)

Embed = Callable[[list[str]], Any]  # texts -> float32 array (n, dims), rows L2-normalised
MODES = ("auto", "keyword", "semantic")
RRF_K = 60


class MemoryInputError(ValueError):
    """Bad input to the memory (an empty fact, an unknown id); the message says what to do."""


@dataclass(frozen=True)
class FactHit:
    fact: Fact
    score: float
    how: str  # "bm25", "dense" or "bm25+dense"


@dataclass(frozen=True)
class Remembered:
    fact: Fact
    merged: bool  # an existing fact was updated instead of a new one added


def _fact(row: sqlite3.Row) -> Fact:
    sources = tuple(Source(str(s.get("session", "")), str(s.get("turn", "")),
                           float(s.get("ts", 0.0))) for s in json.loads(row["sources"] or "[]"))
    return Fact(int(row["id"]), row["scope"], row["text"], float(row["created"]),
                float(row["updated"]), float(row["last_used"]), int(row["uses"]),
                bool(row["pinned"]), sources)


def _sources_json(sources: Iterable[Source]) -> str:
    return json.dumps([{"session": s.session_id, "turn": s.turn_id, "ts": s.ts} for s in sources])


class FactStore:
    def __init__(self, db: Database, *, embed: Embed | None = None,
                 merge_similarity: float = 0.75, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.embed = embed
        self.merge_similarity = merge_similarity
        self.clock = clock

    @classmethod
    def open(cls, path: Path, **kwargs: Any) -> FactStore:
        return cls(Database(path), **kwargs)

    # --- writing ---------------------------------------------------------------------------

    def remember(self, text: str, scope: str, source: Source | None = None) -> Remembered:
        """Add a fact, or merge it into one that says the same: the same words (the first
        wording stays) or nearly the same words (the newer wording wins); the sources add up."""
        text = clean_fact(text)
        norm = normalize(text)
        if not norm:
            raise MemoryInputError("a fact needs some words")
        now = self.clock()
        source = source or Source("", "", now)
        scopes = [USER] if scope == USER else [scope, USER]
        twin = self._twin(text, norm, scopes)
        if twin is not None and twin.text and normalize(twin.text) == norm:
            text = twin.text  # only case or punctuation differ: keep the wording it had
        vec = self._vector(text) if twin is None or twin.text != text else None
        with self.db.tx() as c:
            if twin is not None:
                sources = list(twin.sources)
                if not any(s.session_id == source.session_id and s.turn_id == source.turn_id
                           for s in sources):
                    sources.append(source)
                # Said for the user at large, it becomes a user fact even if a project had it.
                new_scope = USER if scope == USER else twin.scope
                c.execute("UPDATE facts SET text=?, norm=?, scope=?, updated=?, last_used=?, "
                          "sources=?, vec=COALESCE(?, vec) WHERE id=?",
                          (text, norm, new_scope, now, now, _sources_json(sources), vec,
                           twin.id))
                fid = twin.id
            else:
                cur = c.execute(
                    "INSERT INTO facts(scope, text, norm, created, updated, last_used, sources, "
                    "vec) VALUES (?,?,?,?,?,?,?,?)",
                    (scope, text, norm, now, now, now, _sources_json([source]), vec))
                fid = int(cur.lastrowid or 0)
        fact = self.get(fid)
        assert fact is not None
        return Remembered(fact, twin is not None)

    def _twin(self, text: str, norm: str, scopes: Sequence[str]) -> Fact | None:
        marks = ",".join("?" * len(scopes))
        with self.db.lock:
            row = self.db.conn.execute(
                f"SELECT * FROM facts WHERE norm=? AND scope IN ({marks}) LIMIT 1",
                (norm, *scopes)).fetchone()
        if row is not None:
            return _fact(row)
        best: tuple[float, Fact] | None = None
        for hit in self._bm25(text, scopes, 8):
            sim = similarity(text, hit.fact.text)
            if sim >= self.merge_similarity and (best is None or sim > best[0]):
                best = (sim, hit.fact)
        return best[1] if best else None

    def _vector(self, text: str) -> bytes | None:
        if self.embed is None:
            return None
        try:
            vec = self.embed([text])[0]
        except Exception:  # the dense layer is optional: a failure leaves keyword search
            return None
        return bytes(vec.astype("float32").tobytes())

    def edit(self, fid: int, text: str) -> Fact:
        text = clean_fact(text)
        norm = normalize(text)
        if not norm:
            raise MemoryInputError("a fact needs some words (to remove one, delete it)")
        self._need(fid)
        now = self.clock()
        vec = self._vector(text)
        with self.db.tx() as c:
            c.execute("UPDATE facts SET text=?, norm=?, updated=?, vec=? WHERE id=?",
                      (text, norm, now, vec, fid))
        return self._need(fid)

    def set_pinned(self, fid: int, pinned: bool) -> Fact:
        self._need(fid)
        with self.db.tx() as c:
            c.execute("UPDATE facts SET pinned=? WHERE id=?", (int(pinned), fid))
        return self._need(fid)

    def delete(self, fid: int) -> Fact:
        fact = self._need(fid)
        with self.db.tx() as c:
            c.execute("DELETE FROM facts WHERE id=?", (fid,))
        return fact

    def mark_used(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        now = self.clock()
        with self.db.tx() as c:
            c.executemany("UPDATE facts SET uses=uses+1, last_used=? WHERE id=?",
                          [(now, i) for i in ids])

    def forget_decayed(self, half_life_days: float, below: float) -> list[Fact]:
        """Drop unpinned facts whose weight fell below ``below``; returns what was dropped."""
        now = self.clock()
        gone = [f for f in self.all() if weight(f, now, half_life_days) < below]
        if gone:
            with self.db.tx() as c:
                c.executemany("DELETE FROM facts WHERE id=?", [(f.id,) for f in gone])
        return gone

    def drop_session(self, session_id: str) -> tuple[int, int]:
        """Take a session out of every fact's sources; facts it alone said are deleted.
        Returns (deleted, kept but unlinked)."""
        deleted = unlinked = 0
        with self.db.tx() as c:
            for f in [_fact(r) for r in c.execute("SELECT * FROM facts WHERE sources LIKE ?",
                                                  (f'%"{session_id}"%',))]:
                rest = [s for s in f.sources if s.session_id != session_id]
                if len(rest) == len(f.sources):
                    continue
                if rest:
                    c.execute("UPDATE facts SET sources=? WHERE id=?", (_sources_json(rest), f.id))
                    unlinked += 1
                else:
                    c.execute("DELETE FROM facts WHERE id=?", (f.id,))
                    deleted += 1
        return deleted, unlinked

    # --- reading ---------------------------------------------------------------------------

    def get(self, fid: int) -> Fact | None:
        with self.db.lock:
            row = self.db.conn.execute("SELECT * FROM facts WHERE id=?", (fid,)).fetchone()
        return _fact(row) if row is not None else None

    def _need(self, fid: int) -> Fact:
        fact = self.get(fid)
        if fact is None:
            raise MemoryInputError(f"no fact #{fid}")
        return fact

    def all(self, scopes: Sequence[str] | None = None) -> list[Fact]:
        """Every fact (of ``scopes``), newest first."""
        with self.db.lock:
            if scopes is None:
                rows = self.db.conn.execute("SELECT * FROM facts ORDER BY updated DESC").fetchall()
            else:
                marks = ",".join("?" * len(scopes))
                rows = self.db.conn.execute(
                    f"SELECT * FROM facts WHERE scope IN ({marks}) ORDER BY updated DESC",
                    tuple(scopes)).fetchall()
        return [_fact(r) for r in rows]

    def count(self) -> int:
        with self.db.lock:
            return int(self.db.conn.execute("SELECT count(*) FROM facts").fetchone()[0])

    def strongest(self, scopes: Sequence[str], n: int, half_life_days: float) -> list[Fact]:
        """The ``n`` facts that weigh most now (pinned first), for the briefing."""
        now = self.clock()
        facts = self.all(scopes)
        facts.sort(key=lambda f: (f.pinned, weight(f, now, half_life_days), f.updated),
                   reverse=True)
        return facts[:n]

    def search(self, query: str, scopes: Sequence[str], *, mode: str = "auto", k: int = 5,
               half_life_days: float = 30.0) -> list[FactHit]:
        """Facts for ``query``: BM25 (keyword), embeddings (semantic) or both fused by reciprocal
        rank (auto, when the dense layer is there). Old unused facts rank lower (decay)."""
        if mode not in MODES:
            raise MemoryInputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        pool = max(k * 4, 20)
        lexical = [] if mode == "semantic" and self.embed else self._bm25(query, scopes, pool)
        dense = self._dense(query, scopes, pool) if mode != "keyword" and self.embed else []
        now = self.clock()
        ranked: dict[int, tuple[Fact, float, list[str]]] = {}
        for hits, how in ((lexical, "bm25"), (dense, "dense")):
            for rank, hit in enumerate(hits):
                fact, score, hows = ranked.get(hit.fact.id, (hit.fact, 0.0, []))
                ranked[hit.fact.id] = (fact, score + 1.0 / (RRF_K + rank), [*hows, how])
        out = [FactHit(f, s * (0.5 + 0.5 * weight(f, now, half_life_days)), "+".join(h))
               for f, s, h in ranked.values()]
        out.sort(key=lambda h: (h.score, h.fact.updated), reverse=True)
        return out[:k]

    def _bm25(self, query: str, scopes: Sequence[str], k: int) -> list[FactHit]:
        match = match_query(query)
        if match is None:
            return []
        marks = ",".join("?" * len(scopes))
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT f.*, bm25(facts_fts) AS s FROM facts_fts JOIN facts f ON f.id = "
                f"facts_fts.rowid WHERE facts_fts MATCH ? AND f.scope IN ({marks}) "
                "ORDER BY s LIMIT ?", (match, *scopes, k)).fetchall()
        return [FactHit(_fact(r), -float(r["s"]), "bm25") for r in rows]

    def _dense(self, query: str, scopes: Sequence[str], k: int) -> list[FactHit]:
        import numpy as np

        assert self.embed is not None
        marks = ",".join("?" * len(scopes))
        with self.db.lock:
            rows = self.db.conn.execute(
                f"SELECT * FROM facts WHERE vec IS NOT NULL AND scope IN ({marks})",
                tuple(scopes)).fetchall()
        if not rows:
            return []
        try:
            q = self.embed([query])[0]
        except Exception:
            return []
        mat = np.stack([np.frombuffer(r["vec"], dtype=np.float32) for r in rows])
        sims = mat @ q.astype(np.float32)
        order = np.argsort(-sims)[:k]
        return [FactHit(_fact(rows[i]), float(sims[i]), "dense") for i in order]
