"""The hash-chained trace log: one chain under concurrent writers, torn lines, forks found."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

from app.core.learning.chain_log import GENESIS, ChainLog, day_name, record_hash
from app.core.learning.traces import TraceStore

WRITER = """
import sys
from pathlib import Path
from app.core.learning.chain_log import ChainLog
log = ChainLog(Path(sys.argv[1]))
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # both writers start together
for i in range(int(sys.argv[3])):
    log.append({"kind": "turn", "writer": sys.argv[2], "n": i})
"""


def test_two_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    per_writer = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name,
                               str(per_writer)], cwd=root, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for name in ("a", "b")]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.wait(timeout=120) == 0
    log = ChainLog(tmp_path)
    records = list(log.records())
    assert len(records) == 2 * per_writer
    assert [r["seq"] for r in records] == list(range(2 * per_writer))
    assert records[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(records):
        assert after["prev"] == before["hash"]
    # The writers really interleaved (else the lock was never contended).
    writers = [r["writer"] for r in records]
    switches = sum(a != b for a, b in itertools.pairwise(writers))
    assert switches >= 2
    report = log.verify()
    assert report.ok, report.problems
    assert report.records == 2 * per_writer


def test_verify_finds_a_fork_and_a_changed_record(tmp_path: Path) -> None:
    log = ChainLog(tmp_path)
    first = log.append({"kind": "turn", "n": 1})
    log.append({"kind": "turn", "n": 2})
    # A second writer that read the last hash without the lock chains onto the same record.
    forked = {"kind": "turn", "n": 3, "ts": time.time(), "seq": 1, "prev": first["hash"]}
    forked["hash"] = record_hash(forked)
    path = tmp_path / day_name(time.time())
    with path.open("a") as fh:
        fh.write(json.dumps(forked) + "\n")
    problems = [p.what for p in log.verify().problems]
    assert any(p.startswith("fork") for p in problems)
    # Editing a record breaks its hash.
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["n"] = 99
    lines[0] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    assert any("hash does not match" in p.what for p in log.verify().problems)


def test_a_torn_last_line_is_skipped_and_the_chain_goes_on(tmp_path: Path) -> None:
    log = ChainLog(tmp_path)
    good = log.append({"kind": "turn", "n": 1})
    path = tmp_path / day_name(time.time())
    with path.open("a") as fh:
        fh.write('{"kind": "turn", "n": 2, "seq": 1, "prev": "ab')  # killed mid-write
    nxt = log.append({"kind": "turn", "n": 3})
    assert nxt["prev"] == good["hash"] and nxt["seq"] == 1
    assert [r["n"] for r in log.records()] == [1, 3]
    report = log.verify()
    assert [p.what for p in report.problems] == ["damaged line (skipped)"]


def test_chain_continues_across_day_files(tmp_path: Path) -> None:
    log = ChainLog(tmp_path)
    yesterday = log.append({"kind": "turn", "ts": time.time() - 86400})
    today = log.append({"kind": "turn"})
    assert len(log.files()) == 2
    assert today["prev"] == yesterday["hash"] and today["seq"] == 1
    assert log.verify().ok


def test_old_day_files_are_pruned(tmp_path: Path) -> None:
    log = ChainLog(tmp_path, keep_days=2)
    log.append({"kind": "turn", "ts": time.time() - 10 * 86400})
    log.append({"kind": "turn", "ts": time.time() - 86400})
    log.append({"kind": "turn"})
    names = [p.name for p in log.files()]
    assert day_name(time.time() - 10 * 86400) not in names and len(names) == 2


def test_outcomes_fold_into_their_turns(tmp_path: Path) -> None:
    store = TraceStore(tmp_path)
    store.append({"kind": "turn", "id": "tr-1", "category": "a", "task": "one"})
    store.append({"kind": "turn", "id": "tr-2", "category": "b", "task": "two"})
    store.outcome("tr-1", False, "next_action")
    store.outcome("tr-1", True, "user")  # the newest verdict wins
    views = store.turns()
    assert [v.id for v in views] == ["tr-2", "tr-1"]
    assert views[1].success is True and views[1].judged_by == "user"
    assert views[0].success is None
    assert [v.id for v in store.turns(category="b")] == ["tr-2"]
    assert [v.id for v in store.turns(last=1)] == ["tr-2"]
