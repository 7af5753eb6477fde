"""What the step engine needs to know about a task, and nothing about how to solve it.

A task is an initial state, a constant-size prompt built from (strategy, previous action, current
state), a strict parser, a rules-only validator and a done test (maximal decomposition: one
action per call, no transcript). The engine only ever calls these methods, so a new task is a new
module that registers itself here; the engine does not change.

Never in this interface: the known solution. Solvers live next to a task as an *oracle* that
calibration (to score single samples) and the post-hoc audit may use, and the engine never imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class TaskError(ValueError):
    """A task name or its parameters are not usable; raised before anything runs."""


@dataclass(frozen=True)
class Prompt:
    """One call's prompt. ``system`` is the same for every step of a process (prefix caching)."""

    system: str
    user: str
    # A GBNF grammar that forces the terse output format on servers that support one ("" = none).
    grammar: str = ""


@dataclass(frozen=True)
class Parsed:
    """What a strict parser read from a reply, before the rules were checked."""

    action: Any
    next_state: Any | None  # None when the format asks for the action only


@dataclass(frozen=True)
class Answer:
    """A valid reply in canonical form: ``key`` is what votes are counted on."""

    key: str
    action: Any  # JSON-serialisable
    next_state: Any


@dataclass(frozen=True)
class RedFlag:
    """Why a sample was discarded. Kinds: length, format, invalid (failed the rules), error."""

    kind: str
    detail: str


@runtime_checkable
class Task(Protocol):
    name: str
    params: dict[str, Any]
    # The number of steps when it is known in advance (Hanoi: 2^n - 1), else None.
    total_steps: int | None
    # The red-flag length cap to use before calibration has measured one.
    default_token_cap: int

    def initial_state(self) -> Any: ...

    def prompt(self, state: Any, prev_action: Any | None) -> Prompt: ...

    def parse(self, text: str) -> Parsed | RedFlag:
        """Strictly read one reply; any deviation from the format is a RedFlag (never repaired)."""
        ...

    def validate(self, state: Any, parsed: Parsed) -> Answer | RedFlag:
        """Check the reply against the rules only (legal action, consistent next state).

        With ``parsed.next_state`` None the rules derive the next state from the action: that is
        how a resume replays logged decisions and how the audit re-walks a run.
        """
        ...

    def is_done(self, state: Any) -> bool: ...

    def state_to_json(self, state: Any) -> Any: ...

    def state_from_json(self, data: Any) -> Any:
        """Rebuild and check a stored state; raises TaskError when it is not a legal state."""
        ...

    def action_from_json(self, data: Any) -> Any: ...


TaskFactory = Callable[[dict[str, Any]], Task]
_TASKS: dict[str, TaskFactory] = {}
# Declared parameter schemas (``params.Param`` tuples) of registered tasks; None = undeclared.
_SCHEMAS: dict[str, Any] = {}
_BUILTIN_LOADED = False
TASK_METHODS = ("initial_state", "prompt", "parse", "validate", "is_done", "state_to_json",
                "state_from_json", "action_from_json")


def task_variant(task: Any) -> str:
    """Which variant of a task a calibration belongs to: its ``variant`` attribute (a refactor's
    recipe), else its ``format`` parameter (Hanoi), else ""."""
    own = getattr(task, "variant", None)
    return str(own) if own else str(task.params.get("format", ""))


def register_task(name: str, factory: TaskFactory, *, params: Any = None) -> None:
    """Register ``factory`` under ``name``; ``params`` (a sequence of ``Param``, or the factory's
    own ``params`` attribute) types and checks ``--param`` values before the factory sees them."""
    from app.core.process.params import schema_of

    _TASKS[name] = factory
    _SCHEMAS[name] = tuple(params) if params is not None else schema_of(factory)


def known_tasks() -> list[str]:
    from app.core.process.loader import entry_point_names

    _load_builtin()
    return sorted(set(_TASKS) | set(entry_point_names()))


def task_schema(name: str) -> Any:
    """The declared schema of a registered task (None when it declares none)."""
    _lookup(name)
    return _SCHEMAS.get(name)


def _lookup(name: str) -> TaskFactory:
    _load_builtin()
    factory = _TASKS.get(name)
    if factory is None:
        from app.core.process.loader import load_entry_point

        if load_entry_point(name):  # a task another package installed (``nanobot.tasks``)
            factory = _TASKS.get(name)
    if factory is None:
        raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(known_tasks())}")
    return factory


def make_task(name: str, params: dict[str, Any]) -> Task:
    """Build a task from its name and parameters; TaskError names what is wrong."""
    from app.core.process.params import check_params

    factory = _lookup(name)
    schema = _SCHEMAS.get(name)
    checked = check_params(name, schema, params) if schema is not None else dict(params)
    return checked_task(name, factory(checked))


def checked_task(name: str, task: Any) -> Task:
    missing = [m for m in TASK_METHODS if not callable(getattr(task, m, None))]
    if missing:
        raise TaskError(f"task {name!r} is malformed: it lacks {', '.join(missing)}")
    for attr in ("name", "params", "total_steps", "default_token_cap"):
        if not hasattr(task, attr):
            raise TaskError(f"task {name!r} is malformed: it has no attribute {attr!r}")
    return task  # type: ignore[no-any-return]  # a user's object, checked above against Task


_BUILTIN = ["app.core.process.tasks.hanoi", "app.core.process.tasks.hanoi_micro",
            "app.core.process.tasks.job", "app.core.process.tasks.refactor"]


def _load_builtin() -> None:
    # A flag, not "is the registry empty": importing one task module registers that task alone.
    global _BUILTIN_LOADED
    if not _BUILTIN_LOADED:
        import importlib

        _BUILTIN_LOADED = True
        for module in _BUILTIN:  # each registers itself when imported
            importlib.import_module(module)
