"""``kill -9`` of a running app leaves a readable event log, and writing can resume after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from app.core.agent.events import TurnStarted
from app.core.store.event_log import ReadStats, iter_log
from app.core.store.session_store import SessionStore, history_from_events, read_session

ROOT = Path(__file__).resolve().parents[3]


def test_sigkill_mid_run_leaves_a_readable_log(tmp_path: Path) -> None:
    env = {**os.environ, "NANOBOT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.crash_app"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""  # blocks until the app is busy
        assert line.startswith("READY "), (line, proc.stderr.read() if proc.stderr else "")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    path = Path(line.split(" ", 1)[1].strip())

    stats = ReadStats()
    records = [ln.record for ln in iter_log(path, stats)]
    assert len(records) >= 400
    # Only the record being written at the moment of the kill can be torn.
    ends_clean = path.read_bytes().endswith(b"\n")
    assert stats.skipped == (0 if ends_clean else 1)
    seqs = [r["seq"] for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    workers = {r.get("worker") for r in records} - {None}
    assert workers == {"w1", "w2", "w3"}
    kinds = {r["type"] for r in records}
    assert {"SessionStarted", "TurnStarted", "WorkerSpawned", "TextDelta"} <= kinds

    # The session and each worker's transcript read back; the cut-off reply survives as partial.
    own = read_session(path)
    history = history_from_events(own.events)
    assert history[0].content == "root: start three workers and keep talking"
    assert history[-1].role == "assistant" and history[-1].cancelled
    assert history[-1].content.startswith("tok tok")
    for wid in sorted(workers):
        assert read_session(path, worker=wid).events

    # A new writer resumes on a fresh line, after the last good seq.
    again = SessionStore(path)
    seq = again.append(TurnStarted("t9", text="after the crash"))
    again.close()
    assert seq == seqs[-1] + 1
    assert read_session(path).events[-1] == TurnStarted("t9", text="after the crash",
                                                        ts=read_session(path).events[-1].ts)
