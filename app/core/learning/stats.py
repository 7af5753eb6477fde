"""Per task category statistics in SQLite: what past runs cost, budgets for new ones.

One row per judged or unjudged run (``runs``): category, steps, seconds, tokens, success, the
depth and fan-out of the workers it spawned, the tool calls it made (the crystalliser reads
them) and whether it was exported for training. Budgets come from history: the 75th percentile
of the steps successful runs took, plus two, at least three, once a category has enough runs. A
run taking ``flag_factor`` times the category's median time or steps is flagged.

The database is opened per call (WAL, busy timeout), so several Nanobot processes share it.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    trace_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    category TEXT NOT NULL,
    shape TEXT NOT NULL DEFAULT '',
    task TEXT NOT NULL DEFAULT '',
    calls TEXT NOT NULL DEFAULT '[]',
    steps INTEGER NOT NULL DEFAULT 0,
    seconds REAL NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    success INTEGER,
    judged_by TEXT NOT NULL DEFAULT '',
    depth INTEGER NOT NULL DEFAULT 0,
    fan_out INTEGER NOT NULL DEFAULT 0,
    recipe TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    exported INTEGER NOT NULL DEFAULT 0,
    answer TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_category ON runs(category, ts);
CREATE TABLE IF NOT EXISTS categories (
    category TEXT PRIMARY KEY,
    shape TEXT NOT NULL,
    not_before REAL NOT NULL DEFAULT 0
);
"""


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


@dataclass(frozen=True)
class Run:
    trace_id: str
    category: str
    shape: str = ""
    task: str = ""
    calls: tuple[dict[str, Any], ...] = ()
    steps: int = 0
    seconds: float = 0.0
    tokens: int = 0
    success: bool | None = None
    judged_by: str = ""
    depth: int = 0
    fan_out: int = 0
    recipe: str = ""
    model: str = ""
    ts: float = 0.0
    exported: bool = False
    answer: str = ""  # the turn's final answer (a recipe learns its answer form from these)


@dataclass(frozen=True)
class CategoryStats:
    category: str
    runs: int
    judged: int
    successes: int
    avg_steps: float
    p75_steps: float
    avg_seconds: float
    median_seconds: float
    median_steps: float
    avg_tokens: float
    max_depth: int
    avg_fan_out: float
    budget: int | None

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.judged if self.judged else None


@dataclass(frozen=True)
class Norm:
    """What a category's successful runs usually take (medians), from ``runs`` of them."""

    steps: float
    seconds: float
    runs: int


class StatsDB:
    def __init__(self, path: Path, *, min_runs: int = 5, keep_per_category: int = 1000) -> None:
        self.path = path
        self.min_runs = min_runs
        self.keep_per_category = keep_per_category
        with self._db() as db:
            db.executescript(SCHEMA)
            have = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
            if "answer" not in have:  # a database from before answers were kept
                db.execute("ALTER TABLE runs ADD COLUMN answer TEXT NOT NULL DEFAULT ''")

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with db:
                yield db
        finally:
            db.close()

    # --- categories ----------------------------------------------------------------------------

    def categories(self) -> dict[str, str]:
        """category → the shape it was named after."""
        with self._db() as db:
            return dict(db.execute("SELECT category, shape FROM categories").fetchall())

    def add_category(self, category: str, shape: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO categories(category, shape) VALUES (?, ?)",
                       (category, shape))

    def not_before(self, category: str) -> float:
        with self._db() as db:
            row = db.execute("SELECT not_before FROM categories WHERE category = ?",
                             (category,)).fetchone()
        return float(row[0]) if row else 0.0

    def set_not_before(self, category: str, ts: float) -> None:
        """Learn this category's recipe again only from runs after ``ts`` (a recipe was
        demoted or deleted)."""
        with self._db() as db:
            db.execute("INSERT INTO categories(category, shape, not_before) VALUES (?, '', ?) "
                       "ON CONFLICT(category) DO UPDATE SET not_before = excluded.not_before",
                       (category, ts))

    # --- runs ----------------------------------------------------------------------------------

    def record(self, run: Run) -> None:
        success = None if run.success is None else int(run.success)
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs(trace_id, ts, category, shape, task, calls, steps, "
                "seconds, tokens, success, judged_by, depth, fan_out, recipe, model, answer) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.trace_id, run.ts or time.time(), run.category, run.shape, run.task,
                 json.dumps(list(run.calls), ensure_ascii=False, default=str), run.steps,
                 run.seconds, run.tokens, success, run.judged_by, run.depth, run.fan_out,
                 run.recipe, run.model, run.answer))
            db.execute(
                "DELETE FROM runs WHERE category = ? AND trace_id NOT IN (SELECT trace_id FROM "
                "runs WHERE category = ? ORDER BY ts DESC LIMIT ?)",
                (run.category, run.category, self.keep_per_category))

    def judge(self, trace_id: str, success: bool, by: str) -> Run | None:
        """Set a run's outcome; returns the run (None if unknown)."""
        with self._db() as db:
            db.execute("UPDATE runs SET success = ?, judged_by = ? WHERE trace_id = ?",
                       (int(success), by, trace_id))
        return self.run(trace_id)

    def run(self, trace_id: str) -> Run | None:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLS} FROM runs WHERE trace_id = ?",
                             (trace_id,)).fetchone()
        return _run(row) if row else None

    def runs(self, category: str | None = None, *, since: float = 0.0,
             success: bool | None = None, limit: int = 0) -> list[Run]:
        """Runs, newest first."""
        sql = f"SELECT {_COLS} FROM runs WHERE ts >= ?"
        args: list[Any] = [since]
        if category is not None:
            sql += " AND category = ?"
            args.append(category)
        if success is not None:
            sql += " AND success = ?"
            args.append(int(success))
        sql += " ORDER BY ts DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._db() as db:
            return [_run(r) for r in db.execute(sql, args).fetchall()]

    def mark_exported(self, trace_ids: list[str]) -> None:
        with self._db() as db:
            db.executemany("UPDATE runs SET exported = 1 WHERE trace_id = ?",
                           [(t,) for t in trace_ids])

    # --- budgets and norms ---------------------------------------------------------------------

    def norm(self, category: str) -> Norm | None:
        ok = self.runs(category, success=True, limit=200)
        if len(ok) < self.min_runs:
            return None
        return Norm(statistics.median(r.steps for r in ok),
                    statistics.median(r.seconds for r in ok), len(ok))

    def budget(self, category: str) -> int | None:
        """Steps for a new task of ``category``: P75 of successful runs + 2, at least 3; None
        until the category has ``min_runs`` successes."""
        ok = self.runs(category, success=True, limit=200)
        if len(ok) < self.min_runs:
            return None
        return max(3, math.ceil(percentile([float(r.steps) for r in ok], 75)) + 2)

    def table(self) -> list[CategoryStats]:
        """One row per category, most runs first."""
        with self._db() as db:
            names = [r[0] for r in db.execute(
                "SELECT category FROM runs GROUP BY category ORDER BY COUNT(*) DESC, category")]
        return [self.category_stats(c) for c in names]

    def category_stats(self, category: str) -> CategoryStats:
        runs = self.runs(category)
        judged = [r for r in runs if r.success is not None]
        ok = [r for r in judged if r.success]
        steps = [float(r.steps) for r in runs] or [0.0]
        secs = [r.seconds for r in runs] or [0.0]
        return CategoryStats(
            category, len(runs), len(judged), len(ok), statistics.fmean(steps),
            percentile(steps, 75), statistics.fmean(secs), statistics.median(secs),
            statistics.median(steps), statistics.fmean([float(r.tokens) for r in runs] or [0.0]),
            max((r.depth for r in runs), default=0),
            statistics.fmean([float(r.fan_out) for r in runs] or [0.0]), self.budget(category))


_COLS = ("trace_id, ts, category, shape, task, calls, steps, seconds, tokens, success, "
         "judged_by, depth, fan_out, recipe, model, exported, answer")


def _run(row: tuple[Any, ...]) -> Run:
    (trace_id, ts, category, shape, task, calls, steps, seconds, tokens, success, judged_by,
     depth, fan_out, recipe, model, exported, answer) = row
    try:
        parsed = json.loads(calls)
    except ValueError:
        parsed = []
    return Run(trace_id, category, shape, task, tuple(c for c in parsed if isinstance(c, dict)),
               int(steps), float(seconds), int(tokens), None if success is None else bool(success),
               judged_by, int(depth), int(fan_out), recipe, model, float(ts), bool(exported),
               str(answer or ""))
