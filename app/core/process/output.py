"""What a process made, rebuilt from its log: the decided actions, in order, handed to the task.

The log is the one record of every decision (the checkpoint holds only the current state), so a
task's output (a results file, a patch series, a git branch) is written from it at the end of each
run and by ``nanobot process export``. It is rebuilt whole each time, so a killed run, a resume
and a re-export all end with the same files.

A task that makes output has an optional method::

    def write_output(self, decisions: Iterable[tuple[int, Any]], directory: Path,
                     process_id: str) -> list[str]: ...

``decisions`` yields (step, action) in step order; ``directory`` is ``<process>/output``; the
returned lines say what was written (the CLI prints them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core.process.store import ProcessStore
from app.core.process.task import Task


def decisions(store: ProcessStore, task: Task) -> Iterator[tuple[int, Any]]:
    """Every decided (step, action) in the log, in order; stops at anything out of order (a torn
    or damaged tail that the next resume will deal with)."""
    expected = 0
    with open(store.log_path, "rb") as fh:
        for raw in fh:
            if not raw.startswith(b'{"r":"d"') or not raw.endswith(b"\n"):
                continue
            try:
                rec = json.loads(raw)
            except ValueError:
                return
            if rec.get("step") != expected:
                return
            yield expected, task.action_from_json(rec.get("action"))
            expected += 1


def has_output(task: Task) -> bool:
    return callable(getattr(task, "write_output", None))


def output_dir(store: ProcessStore) -> Path:
    return store.dir / "output"


def export(store: ProcessStore, task: Task) -> list[str]:
    """Write the task's output from the log; the lines to show (empty for tasks without one)."""
    if not has_output(task):
        return []
    directory = output_dir(store)
    directory.mkdir(exist_ok=True)
    # write_output is optional on Task; has_output() above checked that this one has it.
    lines: list[str] = task.write_output(decisions(store, task), directory,  # type: ignore[attr-defined]
                                         store.id)
    return lines
