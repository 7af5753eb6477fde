"""The process stats database (SQLite): calibrations and finished or stopped runs.

``process run`` looks up the latest calibration of the same task, format and model here to choose k
and the token cap, and refuses to start when that calibration was a no-go.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.core.settings.paths import get_paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS calibrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    task TEXT NOT NULL,
    variant TEXT NOT NULL,
    params TEXT NOT NULL,
    model TEXT NOT NULL,
    temperature REAL NOT NULL,
    grammar INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    p_hat REAL,
    p_low REAL NOT NULL,
    p_wilson REAL NOT NULL,
    confidence REAL NOT NULL,
    valid_rate REAL NOT NULL,
    len_p50 REAL, len_p90 REAL, len_p99 REAL, len_max INTEGER,
    token_cap INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    target REAL NOT NULL,
    k_min INTEGER,
    exp_samples REAL,
    sec_per_sample REAL,
    projected_s REAL,
    verdict TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calibrations_lookup ON calibrations (task, variant, model, ts);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    params TEXT NOT NULL,
    model TEXT NOT NULL,
    k INTEGER NOT NULL,
    status TEXT NOT NULL,
    steps INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    active_s REAL NOT NULL,
    chain TEXT NOT NULL,
    updated REAL NOT NULL
);
"""


def stats_path() -> Path:
    return get_paths().data_dir / "process_stats.db"


@contextmanager
def connect(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    path = path or stats_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        conn.executescript(SCHEMA)
        yield conn
        conn.commit()
    finally:
        conn.close()


def save_calibration(row: dict[str, Any], path: Path | None = None) -> int:
    row = {**row, "ts": row.get("ts") or time.time()}
    row["params"] = json.dumps(row["params"], sort_keys=True)
    row["details"] = json.dumps(row.get("details", {}), sort_keys=True)
    cols = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    with connect(path) as conn:
        cur = conn.execute(f"INSERT INTO calibrations ({cols}) VALUES ({marks})", row)
        return int(cur.lastrowid or 0)


def latest_calibration(task: str, variant: str, model: str,
                       path: Path | None = None) -> dict[str, Any] | None:
    with connect(path) as conn:
        row = conn.execute(
            "SELECT * FROM calibrations WHERE task = ? AND variant = ? AND model = ? "
            "ORDER BY ts DESC, id DESC LIMIT 1", (task, variant, model)).fetchone()
    if row is None:
        return None
    data = dict(row)
    data["params"] = json.loads(data["params"])
    data["details"] = json.loads(data["details"])
    return data


def save_run(row: dict[str, Any], path: Path | None = None) -> None:
    row = {**row, "params": json.dumps(row["params"], sort_keys=True), "updated": time.time()}
    cols = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    with connect(path) as conn:
        conn.execute(f"INSERT OR REPLACE INTO runs ({cols}) VALUES ({marks})", row)
