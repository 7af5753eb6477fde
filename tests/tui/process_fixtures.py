"""Process files with fixed numbers, for UI tests and snapshots (no clocks, no randomness)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.core.process.recovery import new_counters
from app.core.process.spec import ProcessSpec
from app.core.process.store import Checkpoint, ProcessStore


def make_process(root: Path, pid: str, *, disks: int, step: int, status: str, samples: int,
                 flagged: int, active_s: float, k: int = 4, reason: str = "",
                 **spec_fields: Any) -> ProcessStore:
    """A Hanoi process, or any task's when ``spec_fields`` name it (task, params, task_source,
    total_steps, sampler): the view reads only the spec and the checkpoint."""
    fields: dict[str, Any] = {"task": "hanoi", "params": {"disks": disks, "format": "full"},
                              "sampler": {"kind": "sim", "p": 0.99}, **spec_fields}
    spec = ProcessSpec(id=pid, k=k, created=1.7e9, **fields)
    store = ProcessStore.create(spec, root)
    # The view lists processes by the spec's mtime: fixed ones, in the order they were made, so
    # two specs written within one clock tick cannot swap rows.
    made = 1.7e9 + len(list(root.glob("*/process.json")))
    os.utime(store.spec_path, (made, made))
    counters = {**new_counters(), "samples": samples, "flagged": flagged, "active_s": active_s,
                "tokens": samples * 30}
    state: Any = [list(range(disks, 0, -1)), [], []] if fields["task"] == "hanoi" else step
    store.write_checkpoint(Checkpoint(step=step, state=state, prev=None, chain="", log_offset=0,
                                      log_line=0, status=status, reason=reason, k=k, pid=1,
                                      updated=1.7e9, counters=counters), None)
    return store


def three_processes(home: Path) -> Path:
    root = home / "data" / "processes"
    make_process(root, "hanoi-a-finished", disks=10, step=1023, status="finished", samples=4160,
                 flagged=17, active_s=40.0, reason="done after 1023 steps")
    make_process(root, "hanoi-b-interrupted", disks=20, step=262144, status="running",
                 samples=1069000, flagged=4100, active_s=400.0)
    make_process(root, "hanoi-c-paused", disks=14, step=5000, status="paused", samples=20400,
                 flagged=81, active_s=20.0, reason="step budget reached (5000 of 5000 steps)")
    return root


def user_task_processes(home: Path) -> Path:
    """A task from a file (paused) and a declarative job (finished) next to a built-in task."""
    root = home / "data" / "processes"
    make_process(root, "mine-running-sum", disks=0, step=25_000, status="paused", samples=110_000,
                 flagged=5_200, active_s=3.0, k=5, reason="step budget reached",
                 task="running-sum", params={"count": 100_000, "seed": 7},
                 task_source="file:/home/ada/tasks/running_sum.py:TASK", total_steps=100_000,
                 sampler={"kind": "python", "label": "sim-adder"})
    make_process(root, "param-count", disks=0, step=1000, status="finished", samples=2790,
                 flagged=0, active_s=9400.0, k=2, reason="done after 1000 steps",
                 task="job", params={"file": "/home/ada/jobs/param-count.toml",
                                     "fingerprint": "0f3c9a"},
                 task_source="registry:job", total_steps=1000,
                 sampler={"kind": "model", "model": "qwen2.5-coder-0.5b"})
    make_process(root, "hanoi-10", disks=10, step=1023, status="finished", samples=4160,
                 flagged=17, active_s=40.0, reason="done after 1023 steps")
    return root
