"""kill -9 at arbitrary moments, then resume: the final result is identical (a real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli import ROOT, nanobot

RUN = ["process", "run", "hanoi", "--disks", "12", "--sampler", "sim", "--sim-p", "0.97",
       "--checkpoint-every", "97", "--checkpoint-seconds", "60"]


def _chain(stdout: str) -> str:
    line = next(ln for ln in stdout.splitlines() if "result chain" in ln)
    return line.split("result chain ")[1].split()[0]


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ))


def _kill_after(proc: subprocess.Popen[str], progress_lines: int) -> int:
    """Read progress lines (each follows a checkpoint) and SIGKILL the child mid-run."""
    assert proc.stderr is not None
    seen = 0
    last_step = -1
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


def test_kill_9_three_times_then_resume_gives_the_identical_result(nanobot_home: Path) -> None:
    clean = nanobot(*RUN, "--id", "clean")
    assert clean.returncode == 0, clean.stderr
    reference = _chain(clean.stdout)

    steps = [_kill_after(_start(*RUN, "--id", "victim"), 3)]
    for lines in (2, 5):
        steps.append(_kill_after(_start("process", "resume", "victim"), lines))
    assert steps[0] > 0 and steps[1] > steps[0] and steps[2] > steps[1]

    status = nanobot("process", "status", "victim")
    assert "interrupted" in status.stdout and "process resume victim" in status.stdout

    done = nanobot("process", "resume", "victim")
    assert done.returncode == 0, done.stderr
    assert _chain(done.stdout) == reference
    audit = nanobot("process", "audit", "victim")
    assert audit.returncode == 0 and "4,095 decisions, 0 wrong" in audit.stdout

    log = nanobot_home / "data" / "processes" / "victim" / "log.jsonl"
    decided = [json.loads(ln)["step"] for ln in log.read_text().splitlines() if '"r":"d"' in ln]
    assert decided == list(range(4095))  # every step decided exactly once, in order
    starts = [ln for ln in log.read_text().splitlines() if ln.startswith('{"r":"start"')]
    assert len(starts) == 4


def test_bad_input_is_refused_before_anything_runs(nanobot_home: Path) -> None:
    for args, expect in [
        (("process", "run", "towers", "--disks", "3", "--sampler", "sim"), "unknown task"),
        (("process", "run", "hanoi", "--disks", "0", "--sampler", "sim"), "disks must be"),
        (("process", "run", "hanoi", "--disks", "4", "--sampler", "sim", "--max-steps", "0"),
         "max steps"),
        (("process", "run", "hanoi", "--disks", "4", "--sampler", "sim", "--max-tokens", "1"),
         "cannot pay"),
        (("process", "run", "hanoi", "--disks", "4", "--sampler", "sim", "--k", "0"), "k must"),
        (("process", "run", "hanoi", "--disks", "4", "--endpoint", "ftp://x"), "http(s)"),
        (("process", "resume", "nope"), "no process"),
    ]:
        proc = nanobot(*args)
        assert proc.returncode == 2 or (args[1] == "resume" and proc.returncode == 4), proc
        assert expect in proc.stderr, (args, proc.stderr)
    procs = nanobot_home / "data" / "processes"
    assert not procs.exists() or not any(procs.iterdir())  # nothing was created


def test_a_sim_model_at_or_below_one_half_is_a_no_go(nanobot_home: Path) -> None:
    proc = nanobot("process", "run", "hanoi", "--disks", "4", "--sampler", "sim", "--sim-p", "0.5")
    assert proc.returncode == 3 and "no-go" in proc.stderr
