"""Tasks from outside the package: a task file run through the CLI, killed with SIGKILL, resumed,
audited; parameter schemas; module references and the ``nanobot.tasks`` entry point group."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.process.loader import build_task, load_ref, source_for_ref, task_from_command_line
from app.core.process.params import Param, check_params, parse_pairs, split_pairs
from app.core.process.task import TaskError, known_tasks, make_task
from tests.cli.test_cli import ROOT, nanobot

EXAMPLE = ROOT / "docs" / "examples" / "running_sum.py"


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    """The worked example of docs/processes.md, copied to a directory outside the repository."""
    where = tmp_path / "my-tasks"
    where.mkdir()
    shutil.copy(EXAMPLE, where / "running_sum.py")
    assert ROOT not in where.parents
    return where


RUN = ["process", "run", "--task", "running_sum.py:TASK", "--param", "count=3000",
       "--param", "seed=11", "--sampler-from", "running_sum.py:simulated_model", "--k", "5",
       "--checkpoint-every", "97", "--checkpoint-seconds", "60"]


def _start(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=cwd, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ))


def _kill_after(proc: subprocess.Popen[str], progress_lines: int) -> int:
    """Read progress lines (each follows a checkpoint), then SIGKILL the child and wait for it."""
    assert proc.stderr is not None
    seen, last_step = 0, -1
    for line in proc.stderr:
        if line.startswith("step "):
            seen += 1
            last_step = int(line.split()[1].split("/")[0].replace(",", ""))
            if seen >= progress_lines:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return last_step


def _chain(stdout: str) -> str:
    line = next(ln for ln in stdout.splitlines() if "result chain" in ln)
    return line.split("result chain ")[1].split()[0]


def test_a_task_file_outside_the_repo_runs_is_killed_resumes_and_audits_clean(
        nanobot_home: Path, task_dir: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return nanobot(*args, cwd=task_dir)

    clean = cli(*RUN, "--id", "clean")
    assert clean.returncode == 0, clean.stderr
    assert "process clean: running-sum {'count': 3000, 'seed': 11}, k=5" in clean.stdout

    steps = [_kill_after(_start(task_dir, *RUN, "--id", "victim"), 3)]
    for lines in (2, 4):
        steps.append(_kill_after(_start(task_dir, "process", "resume", "victim"), lines))
    assert 0 < steps[0] < steps[1] < steps[2] < 3000

    # status (from another directory: the spec knows where the task lives) shows it like a
    # built-in task, with the step count, while it is interrupted
    status = nanobot("process", "status", "victim")
    assert status.returncode == 0, status.stderr
    assert "interrupted" in status.stdout and "running-sum" in status.stdout
    assert "of 3,000" in status.stdout and str(task_dir / "running_sum.py") in status.stdout
    listing = nanobot("process", "list")
    assert "victim" in listing.stdout and "/3,000" in listing.stdout

    done = nanobot("process", "resume", "victim")
    assert done.returncode == 0, done.stderr
    assert _chain(done.stdout) == _chain(clean.stdout)
    audit = nanobot("process", "audit", "victim")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "3,000 decisions, 0 wrong" in audit.stdout and "zero errors" in audit.stdout

    log = nanobot_home / "data" / "processes" / "victim" / "log.jsonl"
    records = [json.loads(ln) for ln in log.read_text().splitlines()]
    decided = [r["step"] for r in records if r["r"] == "d"]
    assert decided == list(range(3000))  # every step decided once, in order, across four runs
    assert sum(r["r"] == "start" for r in records) == 4
    flags = {r["flag"] for r in records if r["r"] == "f"}
    assert flags == {"format", "length", "invalid"}  # every kind of bad reply was thrown away
    # near misses pass the rules and vote: some steps saw a wrong candidate and still decided right
    assert any(len(r["votes"]) > 1 for r in records if r["r"] == "d")
    spec = json.loads((log.parent / "process.json").read_text())
    assert spec["task_source"] == f"file:{task_dir / 'running_sum.py'}:TASK"
    assert spec["total_steps"] == 3000 and spec["sampler"]["kind"] == "python"


def test_parameters_are_typed_and_checked_before_anything_runs(nanobot_home: Path,
                                                                task_dir: Path) -> None:
    for extra, expect in [
        (["--param", "count=ten"], "expected an integer"),
        (["--param", "count=0"], "below the minimum 1"),
        (["--param", "colour=red", "--param", "count=3"], "unknown parameter(s) colour"),
        ([], "parameter count is required"),
        (["--param", "count"], "expected NAME=VALUE"),
        (["--param", "count=1", "--param", "count=2"], "given twice"),
    ]:
        proc = nanobot("process", "run", "--task", "running_sum.py:TASK", *extra,
                       "--sampler-from", "running_sum.py:simulated_model", "--k", "3",
                       cwd=task_dir)
        assert proc.returncode == 2, (extra, proc.stdout, proc.stderr)
        assert expect in proc.stderr, (extra, proc.stderr)
    for ref, expect in [("nowhere.py:TASK", "does not exist"),
                        ("running_sum.py:MISSING", "has no 'MISSING'"),
                        ("running_sum.py:REPLY", "neither a TaskDef nor a task factory"),
                        ("running_sum.py", "unknown task")]:
        proc = nanobot("process", "run", "--task", ref, "--k", "3", cwd=task_dir)
        assert proc.returncode == 2 and expect in proc.stderr, (ref, proc.stderr)
    procs = nanobot_home / "data" / "processes"
    assert not procs.exists() or not any(procs.iterdir())  # nothing was created

    shown = nanobot("process", "tasks", "running_sum.py:TASK", cwd=task_dir)
    assert shown.returncode == 0 and "--param count (int, 1..1e+07, required)" in shown.stdout
    listed = nanobot("process", "tasks")
    assert all(name in listed.stdout.split() for name in ("hanoi", "job", "refactor"))


def test_param_schema_unit() -> None:
    schema = (Param("n", "int", min=1), Param("rate", "float", 0.5, max=1.0),
              Param("on", "bool", False), Param("mode", "str", "a", choices=("a", "b")))
    values = parse_pairs("t", schema, split_pairs(["n=3", "rate=0.25", "on=yes"]))
    assert check_params("t", schema, values) == {"n": 3, "rate": 0.25, "on": True, "mode": "a"}
    with pytest.raises(TaskError, match="not one of 'a', 'b'"):
        check_params("t", schema, {"n": 1, "mode": "c"})
    with pytest.raises(TaskError, match="expected an integer, got '3'"):
        check_params("t", schema, {"n": "3"})  # stored JSON is checked strictly, not converted
    with pytest.raises(TaskError, match="expected true or false"):
        parse_pairs("t", schema, {"on": "maybe"})
    with pytest.raises(TaskError, match="declares no parameters"):
        parse_pairs("t", None, {"x": "1"})
    with pytest.raises(TaskError, match="does not exist"):
        Param("p", "path").check("/no/such/place")


def test_hanoi_takes_param_and_its_own_options(nanobot_home: Path) -> None:
    task, source = task_from_command_line("hanoi", "", ["disks=3", "format=move"], {})
    assert source == "" and task.params == {"disks": 3, "format": "move"}
    with pytest.raises(TaskError, match="both as --param and as its own option"):
        task_from_command_line("hanoi", "", ["disks=3"], {"disks": 4})


def test_a_module_reference_and_an_entry_point(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site" / "sumtasks"
    pkg.mkdir(parents=True)
    shutil.copy(EXAMPLE, pkg / "running.py")
    (pkg / "__init__.py").write_text("")
    dist = tmp_path / "site" / "sumtasks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sumtasks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[nanobot.tasks]\nadder = sumtasks.running:TASK\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    assert "adder" in known_tasks()
    task = make_task("adder", {"count": 4})  # the entry point's schema filled in the seed
    assert task.name == "running-sum" and task.params == {"count": 4, "seed": 0}
    from app.core.process.oracle import oracle_for

    assert oracle_for(task).action_at(task, 3) == sum(task.numbers)  # its oracle registered too

    source = source_for_ref("sumtasks.running:TASK")
    assert source == "module:sumtasks.running:TASK"
    again = build_task("running-sum", {"count": 2, "seed": 5}, source)
    assert again.total_steps == 2
    with pytest.raises(TaskError, match="cannot import"):
        load_ref("sumtasks.nothing:TASK")
