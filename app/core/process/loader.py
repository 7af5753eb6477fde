"""Tasks from outside the package: ``path/to/file.py:factory``, ``package.module:factory``, and
the ``nanobot.tasks`` entry point group of installed packages.

What a reference names is a :class:`TaskDef` (name, factory, parameter schema, oracle) or a bare
factory ``(params) -> Task`` (its schema, if any, in a ``params`` attribute). A process remembers
where its task came from (``ProcessSpec.task_source``) so that resume, audit and export rebuild the
same task: ``""`` is a registered name (built-in or entry point), ``file:/abs/path.py:attr`` a file,
``module:pkg.mod:attr`` an importable module, ``registry:NAME`` a registered factory whose tasks
carry their own names (the declarative job).

Loading a file runs its code: it is the user's own file, named on the user's command line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.process.params import Param, check_params, schema_of
from app.core.process.task import Task, TaskError, checked_task, make_task, register_task

if TYPE_CHECKING:  # the engine's process never imports a solver: only calibration and audits
    from app.core.process.oracle import Oracle

ENTRY_POINT_GROUP = "nanobot.tasks"


@dataclass(frozen=True)
class TaskDef:
    """A task as its author declares it: what ``--task`` and entry points point at."""

    name: str
    factory: Callable[[dict[str, Any]], Task]
    params: tuple[Param, ...] = ()
    oracle: Oracle | None = None  # the solver for calibration and audits, if there is one
    description: str = ""


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def entry_point_names() -> list[str]:
    """Task names installed packages declare, without importing them."""
    try:
        return sorted(_entry_points())
    except Exception:  # a broken distribution's metadata must not hide the built-in tasks
        return []


def load_entry_point(name: str) -> bool:
    """Import and register the entry point ``name``; False when there is none."""
    ep = _entry_points().get(name)
    if ep is None:
        return False
    try:
        obj = ep.load()
    except Exception as exc:  # the plugin's own bug: say which plugin
        raise TaskError(f"task {name!r} from {ep.value} ({ENTRY_POINT_GROUP}) failed to load: "
                        f"{type(exc).__name__}: {exc}") from exc
    definition = as_task_def(obj, ep.value, name)
    register_task(name, definition.factory, params=definition.params)
    if definition.oracle is not None:
        from app.core.process.oracle import register_oracle

        for key in {name, definition.name}:  # the entry point's name and the tasks' own name
            register_oracle(key, definition.oracle)
    return True


def as_task_def(obj: Any, where: str, name: str = "") -> TaskDef:
    if isinstance(obj, TaskDef):
        return obj
    if callable(obj):
        schema = schema_of(obj)
        return TaskDef(name or str(getattr(obj, "task_name", "") or getattr(obj, "__name__", "task")),
                       obj, schema or ())
    raise TaskError(f"{where} is neither a TaskDef nor a task factory (got {type(obj).__name__})")


def split_ref(ref: str) -> tuple[str, str]:
    """``path.py:attr`` or ``pkg.module:attr`` -> (target, attr)."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr.isidentifier():
        raise TaskError(f"{ref!r}: expected FILE.py:NAME or package.module:NAME")
    return target, attr


def load_ref(ref: str) -> Any:
    """The object a reference names, importing its file or module."""
    target, attr = split_ref(ref)
    if target.endswith(".py"):
        module = _load_file(Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise TaskError(f"{ref}: cannot import {target}: {exc}") from exc
    if not hasattr(module, attr):
        raise TaskError(f"{ref}: {target} has no {attr!r}")
    return getattr(module, attr)


def _load_file(path: Path) -> Any:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise TaskError(f"task file {path} does not exist")
    # One module per file, named by its path, so two task files with the same name do not clash
    # and loading the same file twice returns the module already loaded.
    name = "nanobot_task_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TaskError(f"{path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise TaskError(f"task file {path} failed to load: {type(exc).__name__}: {exc}") from exc
    return module


def source_for_ref(ref: str) -> str:
    """The ``task_source`` a process records for a reference given on the command line."""
    target, attr = split_ref(ref)
    if target.endswith(".py"):
        return f"file:{Path(target).expanduser().resolve()}:{attr}"
    return f"module:{target}:{attr}"


def definition_for(source: str, name: str) -> TaskDef:
    kind, _, rest = source.partition(":")
    if kind in ("file", "module"):
        return as_task_def(load_ref(rest), rest)
    raise TaskError(f"unknown task source {source!r}")


def build_task(name: str, params: dict[str, Any], source: str = "", *,
               base: Path | None = None) -> Task:
    """The task a process runs: from the registry, a file, a module or a registered factory."""
    if not source:
        return make_task(name, params)
    kind, _, rest = source.partition(":")
    if kind == "registry":
        return make_task(rest, params)
    definition = definition_for(source, name)
    checked = check_params(definition.name, definition.params, params, base=base)
    task = checked_task(definition.name, definition.factory(checked))
    if definition.oracle is not None:
        from app.core.process.oracle import register_oracle

        register_oracle(task.name, definition.oracle)
    return task


def task_for_spec(spec: Any) -> Task:
    """Rebuild the task of a stored process spec."""
    return build_task(spec.task, dict(spec.params), getattr(spec, "task_source", "") or "")


def schema_for(name_or_ref: str) -> tuple[tuple[Param, ...] | None, str]:
    """(declared schema, task source) of what the command line names."""
    from app.core.process.task import task_schema

    if ".py:" in name_or_ref or (":" in name_or_ref and "." in name_or_ref.split(":")[0]):
        source = source_for_ref(name_or_ref)
        definition = definition_for(source, "")
        return definition.params, source
    return task_schema(name_or_ref), ""


def task_from_command_line(name: str, task_file: str, pairs: list[str],
                           legacy: dict[str, Any]) -> tuple[Task, str]:
    """(task, task_source) from what ``process run|calibrate`` was given: a registered name, a
    ``FILE.py:NAME`` / ``module:NAME`` reference, or a TOML job; parameters as ``--param``
    strings (typed by the task's schema) and the older named options (``--disks``)."""
    from app.core.process.params import parse_pairs, split_pairs

    if task_file and name:
        raise TaskError(f"give a task ({name}) or --task-file, not both")
    if task_file or name.endswith(".toml"):
        if pairs or legacy:
            raise TaskError("a job file takes no --param: its settings are in the file")
        return make_task("job", {"file": task_file or name}), "registry:job"
    if not name:
        raise TaskError("name a task: a built-in or installed task, FILE.py:FACTORY, or "
                        "--task-file JOB.toml")
    schema, source = schema_for(name)
    raw = split_pairs(pairs)
    clash = sorted(set(raw) & set(legacy))
    if clash:
        raise TaskError(f"{', '.join(clash)} given both as --param and as its own option")
    values = {**legacy, **parse_pairs(name, schema, raw)}
    if source:
        return build_task(name, values, source), source
    return make_task(name, values), ""
