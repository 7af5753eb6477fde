"""``nanobot process tasks`` and ``nanobot process export``: what tasks exist and take, and a
process's output written again from its log."""

from __future__ import annotations

import argparse
import sys

from app.core.process.store import ProcessStateError
from app.core.process.task import TaskError


def register_task_commands(ps: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tk = ps.add_parser("tasks", help="list tasks, or show one task's parameters")
    tk.add_argument("name", nargs="?", help="a task name or FILE.py:FACTORY")
    tk.set_defaults(handler=tasks_cmd)

    ex = ps.add_parser("export", help="write a process's output (results, patches, branch) again")
    ex.add_argument("id")
    ex.set_defaults(handler=export_cmd)


def tasks_cmd(args: argparse.Namespace) -> int:
    from app.core.process.loader import schema_for
    from app.core.process.task import known_tasks

    if not args.name:
        for name in known_tasks():
            print(name)
        print("\nA task of your own: --task FILE.py:FACTORY (see docs/processes.md); a job: "
              "--task-file JOB.toml")
        return 0
    try:
        schema, source = schema_for(args.name)
    except TaskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name}" + (f" ({source})" if source else ""))
    if schema is None:
        print("  declares no parameters")
    for param in schema or ():
        print(f"  --param {param.describe()}")
    return 0


def export_cmd(args: argparse.Namespace) -> int:
    from app.core.process.loader import task_for_spec
    from app.core.process.output import export, has_output
    from app.core.process.store import ProcessStore

    try:
        store = ProcessStore.open(args.id)
        task = task_for_spec(store.load_spec())
        if not has_output(task):
            print(f"{args.id}: task {task.name} writes no output; its decisions are in "
                  f"{store.log_path}")
            return 0
        for line in export(store, task):
            print(line)
    except ProcessStateError as exc:
        print(f"error: {exc.message}\n{exc.hint}", file=sys.stderr)
        return 4
    except (TaskError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
