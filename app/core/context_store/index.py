"""The chunk index next to a volume: SQLite FTS5 with BM25 ranking, and simhash near-duplicates.

Chunk positions are stored relative to their file, so a re-ingest that changes one file rewrites
only that file's rows: the rows of unchanged files stay valid even when line numbers shift.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.context_store.chunks import NearDupIndex, simhash, to_signed, to_unsigned
from app.core.context_store.errors import VolumeError

SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, line0 INTEGER NOT NULL, line1 INTEGER NOT NULL,
    simhash INTEGER NOT NULL, dup_of INTEGER);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(body, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
"""

MAX_QUERY_TERMS = 32
# Words that match nearly every chunk; dropping them from an OR query keeps BM25 on the content.
_STOP_TEXT = """
a an and are as at be but by can did do does for from had has have how i in is it its of on or
that the their them then there these they this to was were what when where which who whom why
will with you your please tell me
"""
STOPWORDS = frozenset(_STOP_TEXT.split())
# Letters and digits, split at underscores too: what the FTS5 unicode61 tokenizer calls a token.
_WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> list[list[str]]:
    """The query split on whitespace; each piece becomes a list of word parts (stopwords and
    punctuation-only pieces are dropped, repeats removed)."""
    seen: set[tuple[str, ...]] = set()
    terms: list[list[str]] = []
    for piece in text.split():
        parts = [p.lower() for p in _WORD.findall(piece)]
        if not parts or all(p in STOPWORDS for p in parts):
            continue
        key = tuple(parts)
        if key not in seen:
            seen.add(key)
            terms.append(parts)
    return terms[:MAX_QUERY_TERMS]


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression in which every token is a quoted string, so nothing the user typed
    (AND, NEAR, ``*``, ``:``, quotes, parentheses) is read as FTS5 syntax."""
    terms = query_terms(text)
    if not terms:
        return None
    return " OR ".join('"' + " ".join(parts).replace('"', '""') + '"' for parts in terms)


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    path: str
    line0: int   # file-relative, 0-based
    line1: int   # exclusive
    score: float
    dup_of: int | None


@dataclass
class PendingChunk:
    path: str
    line0: int
    line1: int
    body: str


class ChunkIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(str(path), check_same_thread=False)
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise VolumeError(f"cannot open the chunk index {path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def near_dup_count(self) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM chunks WHERE dup_of IS NOT NULL").fetchone()[0])

    def delete_paths(self, paths: Iterable[str]) -> None:
        for p in paths:
            ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE path = ?", (p,))]
            self.db.executemany("DELETE FROM fts WHERE rowid = ?", [(i,) for i in ids])
            self.db.execute("DELETE FROM chunks WHERE path = ?", (p,))

    def add(self, chunks: list[PendingChunk]) -> int:
        """Insert chunks, marking each that is a near-duplicate of an earlier one."""
        if not chunks:
            return 0
        dups = NearDupIndex()
        for cid, fp, dup_of in self.db.execute("SELECT id, simhash, dup_of FROM chunks"):
            if dup_of is None:
                dups.add(cid, to_unsigned(fp))
        row = self.db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()
        next_id = int(row[0]) + 1
        rows = []
        bodies = []
        for c in chunks:
            fp = simhash(c.body.encode("utf-8"))
            dup = dups.add(next_id, fp)
            rows.append((next_id, c.path, c.line0, c.line1, to_signed(fp), dup))
            bodies.append((next_id, c.body))
            next_id += 1
        self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO fts(rowid, body) VALUES (?, ?)", bodies)
        return len(rows)

    def commit(self) -> None:
        self.db.commit()

    def optimize(self) -> None:
        self.db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        self.db.commit()

    def search(self, query: str, k: int = 5) -> list[ChunkHit]:
        """Top ``k`` chunks by BM25; a near-duplicate of a chunk already listed is left out."""
        expr = fts_query(query)
        if expr is None:
            return []
        try:
            rows = self.db.execute(
                "SELECT rowid, bm25(fts) AS s FROM fts WHERE fts MATCH ? ORDER BY s LIMIT ?",
                (expr, max(k * 3, k + 5))).fetchall()
        except sqlite3.Error as exc:
            raise VolumeError(f"search failed: {exc}") from exc
        hits: list[ChunkHit] = []
        groups: set[int] = set()
        for rowid, score in rows:
            info = self.db.execute("SELECT path, line0, line1, dup_of FROM chunks WHERE id = ?",
                                   (rowid,)).fetchone()
            if info is None:
                continue
            group = info[3] if info[3] is not None else rowid
            if group in groups:
                continue
            groups.add(group)
            hits.append(ChunkHit(rowid, info[0], info[1], info[2], -float(score), info[3]))
            if len(hits) >= k:
                break
        return hits

    def idf(self, words: Iterable[str]) -> dict[str, float]:
        """BM25-style inverse document frequency of each word over the chunks."""
        words = list(dict.fromkeys(words))
        if not words:
            return {}
        n = max(self.count(), 1)
        marks = ",".join("?" * len(words))
        df = dict(self.db.execute(
            f"SELECT term, doc FROM fts_vocab WHERE term IN ({marks})", words).fetchall())
        return {w: math.log((n - df.get(w, 0) + 0.5) / (df.get(w, 0) + 0.5) + 1.0) for w in words}
