"""The memory database: one SQLite file (WAL) shared by the app, headless runs and the CLI.

Facts and indexed turns of past sessions each have an FTS5 twin kept in step by triggers (Porter
stemming, so "dogs" finds "dog"). One lock serialises the connection: it is used from the event
loop and from background threads (embeddings, the briefing's reads).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS facts(
    id INTEGER PRIMARY KEY, scope TEXT NOT NULL, text TEXT NOT NULL, norm TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, last_used REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0, pinned INTEGER NOT NULL DEFAULT 0,
    sources TEXT NOT NULL DEFAULT '[]', vec BLOB);
CREATE INDEX IF NOT EXISTS facts_scope ON facts(scope);
CREATE INDEX IF NOT EXISTS facts_norm ON facts(norm);
CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts USING fts5(
    text, content='facts', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS facts_ai AFTER INSERT ON facts BEGIN
    INSERT INTO facts_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS facts_ad AFTER DELETE ON facts BEGIN
    INSERT INTO facts_fts(facts_fts, rowid, text) VALUES ('delete', old.id, old.text); END;
CREATE TRIGGER IF NOT EXISTS facts_au AFTER UPDATE OF text ON facts BEGIN
    INSERT INTO facts_fts(facts_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO facts_fts(rowid, text) VALUES (new.id, new.text); END;

CREATE TABLE IF NOT EXISTS turns(
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, scope TEXT NOT NULL, turn_id TEXT NOT NULL,
    ts REAL NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS turns_session ON turns(session_id);
CREATE VIRTUAL TABLE IF NOT EXISTS turns_fts USING fts5(
    text, content='turns', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS turns_ai AFTER INSERT ON turns BEGIN
    INSERT INTO turns_fts(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS turns_ad AFTER DELETE ON turns BEGIN
    INSERT INTO turns_fts(turns_fts, rowid, text) VALUES ('delete', old.id, old.text); END;

CREATE TABLE IF NOT EXISTS private_sessions(session_id TEXT PRIMARY KEY, ts REAL NOT NULL);
"""


class MemoryDbError(Exception):
    """The memory database could not be opened or written."""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)
            self.conn.commit()
        except (sqlite3.Error, OSError) as exc:
            raise MemoryDbError(f"cannot open the memory database {path}: {exc}") from exc

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction under the lock: committed on success, rolled back on an error."""
        with self.lock:
            try:
                yield self.conn
                self.conn.commit()
            except sqlite3.Error as exc:
                self.conn.rollback()
                raise MemoryDbError(f"memory database {self.path}: {exc}") from exc
            except BaseException:
                self.conn.rollback()
                raise

    def close(self) -> None:
        with self.lock:
            self.conn.close()
