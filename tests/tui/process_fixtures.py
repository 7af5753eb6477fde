"""Process files with fixed numbers, for UI tests and snapshots (no clocks, no randomness)."""

from __future__ import annotations

from pathlib import Path

from app.core.process.recovery import new_counters
from app.core.process.spec import ProcessSpec
from app.core.process.store import Checkpoint, ProcessStore


def make_process(root: Path, pid: str, *, disks: int, step: int, status: str, samples: int,
                 flagged: int, active_s: float, k: int = 4, reason: str = "") -> ProcessStore:
    spec = ProcessSpec(id=pid, task="hanoi", params={"disks": disks, "format": "full"}, k=k,
                       sampler={"kind": "sim", "p": 0.99}, created=1.7e9)
    store = ProcessStore.create(spec, root)
    counters = {**new_counters(), "samples": samples, "flagged": flagged, "active_s": active_s,
                "tokens": samples * 30}
    state = [list(range(disks, 0, -1)), [], []]
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
