"""Process ids stay inside the processes directory; a refused resume changes nothing; status counts
the steps a process decided before its first checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.process.spec import ProcessSpec, SpecError
from app.core.process.store import ProcessStore
from app.core.process.view import describe_process
from tests.cli.test_cli import nanobot

RUN = ["process", "run", "hanoi", "--disks", "3", "--sampler", "sim", "--sim-p", "1.0"]


@pytest.mark.parametrize("bad", ["../evil", "a/b", ".hidden", "..", "x" * 200])
def test_an_unsafe_process_id_is_refused_and_writes_nothing(bad: str,
                                                            nanobot_home: Path) -> None:
    proc = nanobot(*RUN, "--id", bad)
    assert proc.returncode == 2 and "not allowed" in proc.stderr, proc.stderr
    data = nanobot_home / "data"
    assert not (data / "evil").exists()
    procs = data / "processes"
    assert not procs.exists() or not any(procs.iterdir())


def test_a_refused_second_resume_keeps_the_budget(nanobot_home: Path) -> None:
    first = nanobot(*RUN, "--id", "p1", "--max-steps", "2")
    assert first.returncode != 1, first.stderr  # paused by its budget
    spec_path = nanobot_home / "data" / "processes" / "p1" / "process.json"
    before = spec_path.read_text()
    holder = ProcessStore(spec_path.parent)
    holder.lock()  # another program is running it
    try:
        again = nanobot("process", "resume", "p1", "--max-steps", "50")
    finally:
        holder.unlock()
    assert again.returncode == 4 and "already running" in again.stderr
    assert spec_path.read_text() == before
    assert json.loads(before)["budget"]["max_steps"] == 2


def test_status_counts_steps_decided_before_the_first_checkpoint(tmp_path: Path) -> None:
    spec = ProcessSpec(id="early", task="hanoi", params={"disks": 3, "format": "json"}, k=1,
                       sampler={"kind": "sim", "p": 1.0})
    store = ProcessStore.create(spec, root=tmp_path)
    with store.log_path.open("a") as fh:
        fh.write(json.dumps({"r": "start", "step": 0}) + "\n")
        for step in range(3):
            fh.write(json.dumps({"r": "d", "step": step, "key": "k"}) + "\n")
    view = describe_process(store)
    assert view.step == 3 and view.status == "interrupted"


def test_the_spec_itself_refuses_an_unsafe_id() -> None:
    spec = ProcessSpec(id="../x", task="hanoi", params={}, k=1, sampler={"kind": "sim"})
    with pytest.raises(SpecError, match="not allowed"):
        spec.check()
