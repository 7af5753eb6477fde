"""A session's seat in the learner: it records each turn, runs recipes, applies budgets, flags
runaways and judges a turn by what the user does next.

The session factory gives one hook to every main session it makes (``SessionFactory.learning``,
``app/runtime/factory.py``), so it follows ``/new`` and resume, keeping what it tracks per
session.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.agent.events import (
    Event,
    MessageAdded,
    Notice,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    Usage,
)
from app.core.agent.hooks import SessionHook
from app.core.learning.learner import Learned, Learner
from app.core.learning.recipe_run import RecipeRun, run_recipe
from app.core.learning.recipes import RESULT_CHARS
from app.core.learning.shapes import similarity
from app.core.learning.stats import Norm
from app.core.learning.traces import new_trace_id
from app.core.policy.redact import redact, redact_value

if TYPE_CHECKING:
    from app.core.agent.session import Session

log = logging.getLogger(__name__)

ANSWER_CHARS = 4000
RETRY_SIMILARITY = 0.8  # a next request this close to the last one is the user trying again


def _summary(text: str) -> str:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return first[:160]


@dataclass
class _Turn:
    turn_id: str
    started: float  # monotonic
    ts: float
    trace_id: str = field(default_factory=new_trace_id)
    task: str = ""
    category: str = ""
    shape: str = ""
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    call_started: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    assistant_messages: int = 0
    iterations: int | None = None
    status: str = ""
    answer: str = ""
    error: str = ""
    stopped: bool = False  # an error notice: the loop gave up (malformed calls, step limit)
    budget: int | None = None
    norm: Norm | None = None
    flagged: str = ""
    recipe: RecipeRun | None = None
    workers: int = 0
    depth: int = 0

    @property
    def steps(self) -> int:
        model = self.iterations if self.iterations is not None else self.assistant_messages
        fills = self.recipe.fill_steps if self.recipe else 0
        replayed = self.recipe.steps_run if self.recipe else 0  # recipe calls are not model steps
        if self.iterations is None:
            model -= replayed
        return max(0, model) + fills


@dataclass
class _Pending:
    trace_id: str
    task: str


class LearningHook(SessionHook):

    def __init__(self, learner: Learner) -> None:
        self.learner = learner
        self._turns: dict[str, _Turn] = {}  # session id → its running turn
        self._pending: dict[str, _Pending] = {}  # session id → last turn not judged yet
        self._attached: set[str] = set()
        self.last_trace: dict[str, str] = {}  # session id → its last recorded trace id
        self.learned: list[Learned] = []  # what judgements changed, newest last
        self.off = False  # set when the learning files fail: the session goes on without them

    # --- session hook ----------------------------------------------------------------------------

    def turn_started(self, session: Session, turn_id: str) -> None:
        if session.session_id not in self._attached:
            self._attached.add(session.session_id)
            session.add_listener(functools.partial(self._on_event, session))
        self._turns[session.session_id] = _Turn(turn_id, time.monotonic(), time.time())

    async def before_turn(self, session: Session, turn_id: str) -> None:
        turn = self._turns.get(session.session_id)
        if turn is None or turn.turn_id != turn_id:
            return
        turn.task = next((m.content for m in reversed(session.history) if m.role == "user"), "")
        if self.off:
            return
        try:
            self._judge_by_next_action(session, turn.task)
            turn.category, turn.shape = self.learner.categorise(turn.task)
            turn.budget = self.learner.budget(turn.category)
            turn.norm = self.learner.norm(turn.category)
            match = self.learner.match(turn.task, turn.category)
        except (OSError, sqlite3.Error) as exc:
            self._turn_off(session, turn_id, exc)
            return
        if turn.budget is not None:
            session.limit_turn(turn.budget)
        if match is not None:
            turn.recipe = await run_recipe(session, turn_id, match.recipe, match.values,
                                           turn.task,
                                           answer_forms=self.learner.config.answer_forms)

    def before_step(self, session: Session, turn_id: str) -> list[Any]:
        turn = self._turns.get(session.session_id)
        if turn is not None and turn.turn_id == turn_id:
            self._check_norm(session, turn)
        return []

    def turn_ended(self, session: Session, turn_id: str) -> None:
        turn = self._turns.pop(session.session_id, None)
        if turn is None or turn.turn_id != turn_id:
            return
        if self.off:
            return
        try:
            self._finish(session, turn)
        except (OSError, sqlite3.Error) as exc:
            self._turn_off(session, turn_id, exc)
        except Exception:
            log.exception("could not record the turn's trace")

    def _turn_off(self, session: Session, turn_id: str, exc: BaseException) -> None:
        """The learning files failed (a full disk, a read-only home): say so once and stop
        learning; the turn itself goes on untouched."""
        self.off = True
        log.warning("learning is off for this session: %s", exc)
        session.emit(Notice(turn_id, f"Learning is off for this session: {exc}", level="warning"))

    # --- the 👍/👎 key and the task's own check ----------------------------------------------------

    def feedback(self, session: Session, good: bool) -> str | None:
        """The user's verdict on the session's last recorded turn; returns its trace id."""
        trace_id = self.last_trace.get(session.session_id)
        if trace_id is None:
            return None
        self._pending.pop(session.session_id, None)
        self._remember(self.learner.judge(trace_id, good, "user"))
        return trace_id

    def judge_last(self, session: Session, success: bool, by: str = "check") -> str | None:
        trace_id = self.last_trace.get(session.session_id)
        if trace_id is None:
            return None
        self._pending.pop(session.session_id, None)
        self._remember(self.learner.judge(trace_id, success, by))
        return trace_id

    # --- internals -------------------------------------------------------------------------------

    def _remember(self, learned: Learned) -> None:
        if learned.crystallised or learned.demoted:
            self.learned.append(learned)

    def _judge_by_next_action(self, session: Session, text: str) -> None:
        pending = self._pending.pop(session.session_id, None)
        if pending is None:
            return
        retried = similarity(" ".join(text.lower().split()),
                             " ".join(pending.task.lower().split())) >= RETRY_SIMILARITY
        note = "the user asked again" if retried else "the user moved on"
        self._remember(self.learner.judge(pending.trace_id, not retried, "next_action", note))

    def _on_event(self, session: Session, ev: Event) -> None:
        turn = self._turns.get(session.session_id)
        if turn is None or ev.turn_id != turn.turn_id:
            return
        if isinstance(ev, ToolCallStarted):
            turn.call_started[ev.call_id] = time.monotonic()
            turn.calls[ev.call_id] = {"name": ev.name, "args": redact_value(ev.arguments)}
        elif isinstance(ev, ToolCallFinished):
            call = turn.calls.setdefault(ev.call_id, {"name": ev.name, "args": {}})
            content = redact(ev.content)
            call.update(ok=not ev.is_error, summary=_summary(content),
                        result=content[:RESULT_CHARS], seconds=round(ev.duration, 3))
        elif isinstance(ev, Usage):
            turn.prompt_tokens += ev.prompt_tokens
            turn.completion_tokens += ev.completion_tokens
        elif isinstance(ev, MessageAdded) and ev.message.role == "assistant":
            turn.assistant_messages += 1
        elif isinstance(ev, TurnFinished):
            turn.status, turn.answer, turn.iterations = "finished", ev.text, ev.iterations
        elif isinstance(ev, TurnCancelled):
            turn.status, turn.answer = "cancelled", ev.partial_text
        elif isinstance(ev, TurnFailed):
            turn.status, turn.error = "failed", ev.error
        elif isinstance(ev, Notice) and ev.level == "error":
            turn.stopped = True
        elif type(ev).__name__ == "WorkerSpawned":
            turn.workers += 1
            turn.depth = max(turn.depth, int(getattr(ev, "depth", 1)))

    def _check_norm(self, session: Session, turn: _Turn) -> None:
        norm = turn.norm
        if norm is None or turn.flagged:
            return
        factor = self.learner.config.flag_factor
        elapsed = time.monotonic() - turn.started
        steps = turn.assistant_messages
        if norm.seconds > 0 and elapsed > factor * norm.seconds:
            turn.flagged = (f"this task has taken {elapsed:.0f} s, over {factor:g}× the "
                            f"{norm.seconds:.1f} s its kind usually takes ({norm.runs} runs)")
        elif norm.steps > 0 and steps > factor * norm.steps:
            turn.flagged = (f"this task has taken {steps} steps, over {factor:g}× the "
                            f"{norm.steps:g} its kind usually takes ({norm.runs} runs)")
        if turn.flagged:
            session.emit(Notice(turn.turn_id, turn.flagged[0].upper() + turn.flagged[1:] + ".",
                                level="warning"))

    def _finish(self, session: Session, turn: _Turn) -> None:
        self._check_norm(session, turn)
        seconds = time.monotonic() - turn.started
        status = turn.status or "failed"
        limit = min(session.options.max_iterations, turn.budget or 1 << 30)
        hit_limit = status == "finished" and turn.iterations is not None and \
            turn.iterations >= limit
        provider = session.provider
        record = {
            "id": turn.trace_id, "session": session.session_id, "turn": turn.turn_id,
            "task": redact(turn.task), "category": turn.category, "shape": turn.shape,
            "calls": list(turn.calls.values()), "steps": turn.steps,
            "seconds": round(seconds, 3),
            "tokens": {"prompt": turn.prompt_tokens, "completion": turn.completion_tokens},
            "status": status, "answer": redact(turn.answer)[:ANSWER_CHARS],
            "error": redact(turn.error),
            "recipe": turn.recipe.recipe if turn.recipe else "",
            "recipe_completed": bool(turn.recipe and turn.recipe.completed),
            "budget": turn.budget, "flagged": turn.flagged,
            "workers": {"spawned": turn.workers, "depth": turn.depth},
            "model": provider.model, "provider": provider.name,
            "settings": _settings(session),
        }
        self.learner.record_turn(record)
        self.last_trace[session.session_id] = turn.trace_id
        if status != "finished" or turn.stopped or hit_limit:
            why = ("hit its step limit" if hit_limit else "the loop gave up" if turn.stopped
                   else status)
            self._remember(self.learner.judge(turn.trace_id, False, "status", why))
        else:
            self._pending[session.session_id] = _Pending(turn.trace_id, turn.task)
        if turn.recipe is not None and not turn.recipe.completed:
            # The recipe broke off: whatever the model made of it, the recipe failed.
            demoted = self.learner.recipe_used(turn.recipe.recipe, False, turn.category,
                                               steps=turn.steps, seconds=seconds)
            self._remember(Learned(demoted=demoted))


def _settings(session: Session) -> dict[str, Any]:
    opts = session.options
    out: dict[str, Any] = {"max_iterations": opts.max_iterations, "max_tokens": opts.max_tokens,
                           "temperature": opts.temperature, "thinking": session.thinking}
    harness = getattr(session, "harness", None)
    config = getattr(harness, "config", None)
    if config is not None:
        out["harness"] = {k: v for k, v in vars(config).items()
                          if isinstance(v, int | float | str | bool)}
    return out

