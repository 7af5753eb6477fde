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
_BUILTIN_LOADED = False


def register_task(name: str, factory: TaskFactory) -> None:
    _TASKS[name] = factory


def known_tasks() -> list[str]:
    _load_builtin()
    return sorted(_TASKS)


def make_task(name: str, params: dict[str, Any]) -> Task:
    """Build a task from its name and parameters; TaskError names what is wrong."""
    _load_builtin()
    factory = _TASKS.get(name)
    if factory is None:
        raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(known_tasks())}")
    task = factory(dict(params))
    missing = [m for m in ("initial_state", "prompt", "parse", "validate", "is_done",
                           "state_to_json", "state_from_json", "action_from_json")
               if not callable(getattr(task, m, None))]
    if missing:
        raise TaskError(f"task {name!r} is malformed: it lacks {', '.join(missing)}")
    return task


_BUILTIN = ["app.core.process.tasks.hanoi", "app.core.process.tasks.hanoi_micro"]


def _load_builtin() -> None:
    # A flag, not "is the registry empty": importing one task module registers that task alone.
    global _BUILTIN_LOADED
    if not _BUILTIN_LOADED:
        import importlib

        _BUILTIN_LOADED = True
        for module in _BUILTIN:  # each registers itself when imported
            importlib.import_module(module)
