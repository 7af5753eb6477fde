"""A read-only snapshot of a process for the CLI's status and the TUI's process view.

It reads only the files (spec, checkpoint, result, the run lock), so it works for processes that
run in another program, and for ones that were killed: a checkpoint that says "running" while no
program holds the run lock belongs to an interrupted process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.process.store import ProcessStateError, ProcessStore
from app.core.process.task import TaskError, make_task


def fmt_duration(seconds: float) -> str:
    if seconds < 0:
        return "?"
    s = int(seconds)
    if s < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


@dataclass
class ProcessView:
    id: str
    task: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    sampler: str = ""
    status: str = "new"  # new, running, interrupted, paused, stopped, finished, failed, damaged
    reason: str = ""
    step: int = 0
    total: int = 0
    k: int = 0
    samples: int = 0
    flagged: int = 0
    tokens: int = 0
    active_s: float = 0.0
    updated: float = 0.0
    parent: str | None = None
    source: str = ""  # where a user task comes from ("" = a built-in or installed task)

    @property
    def shown_params(self) -> dict[str, Any]:
        """The parameters worth reading: unset ones and fingerprints left out."""
        return {k: v for k, v in self.params.items() if v not in (None, "") and k != "fingerprint"}

    @property
    def progress(self) -> float:
        return self.step / self.total if self.total else 0.0

    @property
    def samples_per_step(self) -> float:
        return self.samples / self.step if self.step else 0.0

    @property
    def flag_rate(self) -> float:
        return self.flagged / self.samples if self.samples else 0.0

    @property
    def steps_per_s(self) -> float:
        return self.step / self.active_s if self.active_s > 0 else 0.0

    @property
    def eta_s(self) -> float:
        rate = self.steps_per_s
        if not self.total or rate <= 0 or self.status == "finished":
            return -1.0
        return (self.total - self.step) / rate

    def summary_line(self) -> str:
        total = f"/{self.total:,}" if self.total else ""
        return (f"{self.id}  {self.status:<11} step {self.step:,}{total} "
                f"({100 * self.progress:.1f}%)  k={self.k}  {self.samples_per_step:.2f} samples/step"
                f"  flagged {100 * self.flag_rate:.1f}%")

    def detail_lines(self) -> list[str]:
        lines = [
            f"process {self.id}",
            f"  task      {self.task} {self.shown_params}",
            *([f"  from      {self.source}"] if self.source else []),
            f"  sampler   {self.sampler}",
            f"  status    {self.status}" + (f" ({self.reason})" if self.reason else ""),
            f"  progress  {self.step:,}" + (f" of {self.total:,} ({100 * self.progress:.2f}%)"
                                            if self.total else ""),
            f"  votes     k={self.k}, {self.samples:,} samples ({self.samples_per_step:.3f}/step), "
            f"{self.flagged:,} red-flagged ({100 * self.flag_rate:.2f}%)",
            f"  speed     {self.steps_per_s:,.2f} steps/s over {fmt_duration(self.active_s)} "
            f"active; ETA {fmt_duration(self.eta_s) if self.eta_s >= 0 else '-'}",
            f"  tokens    {self.tokens:,}",
        ]
        if self.parent:
            lines.append(f"  parent    {self.parent}")
        if self.status in ("interrupted", "stopped", "paused"):
            lines.append(f"  continue: nanobot process resume {self.id}")
        return lines


def steps_logged(store: ProcessStore) -> int:
    """Steps decided according to the log (its last decision), read from the end."""
    from app.core.store.event_log import ReadStats, _iter_segment_backwards

    if not store.log_path.exists():
        return 0
    for line in _iter_segment_backwards(store.log_path, ReadStats()):
        rec = line.record
        if rec.get("r") == "d" and isinstance(rec.get("step"), int):
            return int(rec["step"]) + 1
    return 0


def describe_process(store: ProcessStore) -> ProcessView:
    view = ProcessView(id=store.id)
    try:
        spec = store.load_spec()
    except ProcessStateError as exc:
        view.status, view.reason = "damaged", exc.message
        return view
    view.task, view.params, view.parent = spec.task, dict(spec.params), spec.parent
    kind, _, where = spec.task_source.partition(":")
    view.source = where if kind in ("file", "module") else ""  # a registry name says nothing more
    view.k = spec.k
    conf = spec.sampler
    view.sampler = str(conf.get("label") or conf.get("model") or conf.get("kind"))
    if conf.get("kind") == "sim":
        view.sampler = f"sim(p={conf.get('p')})"
    if spec.total_steps is not None or spec.task_source:
        view.total = spec.total_steps or 0
    else:  # written before specs recorded the step count: only built-in tasks
        try:
            view.total = make_task(spec.task, spec.params).total_steps or 0
        except TaskError:
            view.total = 0
    try:
        cp = store.read_checkpoint()
    except ProcessStateError as exc:
        view.status, view.reason = "damaged", exc.message
        return view
    running = store.is_running()
    logged = steps_logged(store)
    if cp is None:
        view.status = "running" if running else ("new" if not logged else "interrupted")
        view.step = logged  # decisions made before the first checkpoint count too
        return view
    c = cp.counters
    view.step, view.k, view.reason, view.updated = (max(cp.step, logged), cp.k or spec.k,
                                                    cp.reason, cp.updated)
    view.samples, view.flagged = int(c.get("samples", 0)), int(c.get("flagged", 0))
    view.tokens, view.active_s = int(c.get("tokens", 0)), float(c.get("active_s", 0.0))
    if running:
        view.status = "running"
    elif cp.status == "running":
        view.status, view.reason = "interrupted", "the program running it stopped without a word"
    else:
        view.status = cp.status
    return view


def tree_order(views: list[ProcessView] | tuple[ProcessView, ...]) -> list[tuple[int, ProcessView]]:
    """Processes as a tree: each child right after its parent, with its depth."""
    by_id = {v.id: v for v in views}
    children: dict[str | None, list[ProcessView]] = {}
    for v in views:
        parent = v.parent if v.parent in by_id and v.parent != v.id else None
        children.setdefault(parent, []).append(v)
    out: list[tuple[int, ProcessView]] = []
    seen: set[str] = set()

    def walk(parent: str | None, depth: int) -> None:
        for v in children.get(parent, []):
            if v.id not in seen:
                seen.add(v.id)
                out.append((depth, v))
                walk(v.id, depth + 1)

    walk(None, 0)
    out.extend((0, v) for v in views if v.id not in seen)  # a parent cycle: list them flat
    return out
