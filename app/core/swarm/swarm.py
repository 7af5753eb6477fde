"""The worker tree: spawn, run concurrently on asyncio, budget, cancel, report.

One :class:`Swarm` belongs to a root session (the session whose seat, a
:class:`~app.core.swarm.status.SwarmHook` with no owner, it was given to). Every worker runs its own
:class:`Session` (on the parent's model or another slot's), made by the session factory from a
:class:`WorkerPlan`, writes into the root's event log tagged with its id, and reports
back to its parent as a ``notice`` message at the parent's next step. The swarm keeps an in-memory
registry that status injection reads each turn, and posts a frozen :class:`SwarmSnapshot` (event
``SwarmUpdated``) whenever something changes and once a second while workers run, so a view only
renders what it is given and never polls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    Event,
    MessageAdded,
    Notice,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)
from app.core.agent.messages import Message
from app.core.agent.session import Session, SessionOptions, TurnOutcome
from app.core.policy.permissions import ApprovalRequest, Approver, Decision
from app.core.providers.base import Provider
from app.core.settings.config import SwarmConfig
from app.core.swarm.events import (
    BranchFinished,
    SwarmSnapshot,
    SwarmUpdated,
    WorkerFinished,
    WorkerRow,
    WorkerSpawned,
)
from app.core.swarm.worker import BudgetError, Worker, WorkerBudget, WorkerStore, transcript_lines
from app.core.tools.base import ToolError, ToolRegistry

if TYPE_CHECKING:
    from app.core.store.session_store import SessionStore

log = logging.getLogger(__name__)

WORKER_PROMPT = (
    "You are a worker started by another agent for one task. Do the task with the tools you "
    "have, then reply with the result only: complete and concise. Nobody can answer questions.")
RESULT_CHARS = 2000  # of a result in the log and in status lines' source
HIDDEN_TOOLS = ("spawn", "expand", "branch")  # per-session tools: never copied from parent to child


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker's session is made from. The swarm decides it; the session factory
    (``app/runtime/factory.py``) builds the session, as it builds every other one."""

    swarm: Swarm
    worker: Worker
    parent: Session
    provider: Provider

    @property
    def can_spawn(self) -> bool:
        return self.worker.budget.depth < self.worker.budget.max_depth

    def tools(self) -> ToolRegistry:
        """The parent's tools this worker may use (the same instances: tools hold no turn state)."""
        return ToolRegistry([t for n in self.worker.tools
                             if (t := self.parent.tools.get(n)) is not None])

    def options(self) -> SessionOptions:
        parent = self.parent.options
        return SessionOptions(workspace=parent.workspace,
                              max_iterations=self.worker.budget.max_iterations,
                              max_tokens=parent.max_tokens, temperature=parent.temperature,
                              system_prompt=self.worker.system_prompt or WORKER_PROMPT)

    def history(self) -> list[Message] | None:
        """Where the worker starts: a branch from a copy of its parent's conversation."""
        return list(self.worker.history) or None

    def store(self) -> SessionStore | None:
        """The root's session file, records tagged with the worker id (None when not saved)."""
        root = self.swarm.root.store
        return WorkerStore(root, self.worker.id) if root is not None else None

    def approver(self) -> Approver | None:
        """The parent's approver, with the question saying which worker asks. A branch (and
        whatever it spawns) never talks to the user: nobody is asked there."""
        w = self.worker
        if w.kind == "branch" or any(a.kind == "branch" for a in self.swarm.ancestors(w.id)):
            return None
        return labelled(self.parent.approver, w.label)


WorkerSessionMaker = Callable[[WorkerPlan], Session]


class Swarm:
    def __init__(self, *, make_session: WorkerSessionMaker, config: SwarmConfig | None = None,
                 provider_for: Callable[[str], Provider] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, tick_s: float = 1.0) -> None:
        self.make_session = make_session
        self.config = config or SwarmConfig()
        self.provider_for = provider_for
        self.clock, self.wall, self.tick_s = clock, wall, tick_s
        self.workers: dict[str, Worker] = {}
        self._root: Session | None = None
        self._ids = itertools.count(1)
        self._mailbox: dict[str | None, list[str]] = {}
        self._sem = asyncio.Semaphore(self.config.max_concurrent)
        self._ticker: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[SwarmSnapshot], None]] = []
        # Readers (the RLM delegate) show as rows but are not workers: no reports, no status.
        self.readers: dict[str, Worker] = {}
        self._reader_cancel: dict[str, CancelToken] = {}

    @property
    def root(self) -> Session:
        if self._root is None:
            raise RuntimeError("this swarm's root seat was never given to a session")
        return self._root

    def attach_root(self, session: Session) -> None:
        """Called by the root seat when the root session is constructed."""
        if self._root is not None and self._root is not session:
            raise RuntimeError("a swarm has one root session")
        self._root = session

    # --- tree and budgets ----------------------------------------------------------------------

    def session_of(self, owner: str | None) -> Session:
        if owner is None:
            return self.root
        session = self.workers[owner].session
        if session is None:
            raise ToolError(f"worker {owner} is not running")
        return session

    def budget_of(self, owner: str | None) -> WorkerBudget:
        if owner is not None:
            return self.workers[owner].budget
        return WorkerBudget(max_iterations=self.root.options.max_iterations,
                            max_depth=self.config.max_depth, depth=0)

    def subtree(self, wid: str) -> list[str]:
        out = [wid]
        for child in self.workers[wid].children:
            out.extend(self.subtree(child))
        return out

    def owned_by(self, owner: str | None, wid: str) -> bool:
        """Whether ``wid`` is ``owner``'s descendant (the root owns every worker)."""
        w = self.workers.get(wid)
        while w is not None:
            if w.parent == owner:
                return True
            w = self.workers.get(w.parent) if w.parent else None
        return False

    def ancestors(self, wid: str) -> list[Worker]:
        out, parent = [], self.workers[wid].parent
        while parent is not None:
            out.append(self.workers[parent])
            parent = self.workers[parent].parent
        return out

    # --- commands ------------------------------------------------------------------------------

    def spawn(self, parent: str | None, task: str, *, label: str = "",
              tools: list[str] | None = None, context: str = "", model: str = "",
              timeout_s: float | None = None, kind: str = "worker",
              history: list[Message] | None = None, system_prompt: str = "",
              max_iterations: int | None = None, token_budget: int | None = None) -> Worker:
        """Start a worker under ``parent`` (None = the root). Raises ToolError when not allowed.

        A branch (``kind="branch"``) starts from ``history`` (a copy of its parent's) with its own
        ``system_prompt`` and budget (``max_iterations``, ``token_budget``, ``timeout_s``)."""
        if not task.strip():
            raise ToolError("a worker needs a task")
        now = self.clock()
        if parent is None:
            base = self.budget_of(None)
            tokens_left: int | None = token_budget or self.config.token_budget
            timeout_s = min(timeout_s or self.config.timeout_s, self.config.timeout_s)
        else:
            pw = self.workers[parent]
            base, tokens_left = pw.budget, pw.tokens_left()
        try:
            budget = base.child(now, timeout_s=timeout_s, tokens_left=tokens_left)
        except BudgetError as exc:
            raise ToolError(str(exc)) from exc
        if max_iterations is not None:
            budget = dataclasses.replace(budget, max_iterations=max_iterations)
        parent_tools = self.session_of(parent).tools
        allowed = self._allowed_tools(parent_tools, tools)
        provider = self._provider(parent, model)
        wid = f"w{next(self._ids)}"
        worker = Worker(wid, parent, label.strip() or task.strip().splitlines()[0][:40], task,
                        context, allowed, provider.model, budget, created=now, kind=kind,
                        history=list(history or ()), system_prompt=system_prompt)
        self.workers[wid] = worker
        if parent is not None:
            self.workers[parent].children.append(wid)
        self.root.emit(WorkerSpawned(
            self.root.turn_id or "", worker_id=wid, parent_id=parent or "root",
            label=worker.label, task=task[:200], model=provider.model, tools=allowed,
            depth=budget.depth, max_iterations=budget.max_iterations,
            max_tokens=budget.max_tokens or 0,
            seconds=(budget.deadline - now) if budget.deadline else 0.0))
        worker.handle = asyncio.get_running_loop().create_task(self._run(worker, provider))
        # A task cancelled before its first step never runs its own handlers: finish it here.
        worker.handle.add_done_callback(lambda _t: self._finish(worker, None, state="cancelled"))
        self._changed()
        return worker

    def _allowed_tools(self, parent_tools: ToolRegistry, wanted: list[str] | None
                       ) -> tuple[str, ...]:
        available = sorted(n for n in parent_tools.names() if n not in HIDDEN_TOOLS)
        if wanted is None:
            return tuple(available)
        unknown = [t for t in wanted if t not in available and t not in HIDDEN_TOOLS]
        if unknown:
            raise ToolError(f"unknown tools {unknown}; a worker may use: "
                            f"{', '.join(available) or 'none'}")
        return tuple(t for t in wanted if t in available)

    def _provider(self, parent: str | None, model: str) -> Provider:
        if model and model not in ("main", "rlm", "memory"):
            raise ToolError(f"unknown model slot {model!r}; use main, rlm or memory")
        if model and self.provider_for is not None:
            return self.provider_for(model)
        return self.session_of(parent).provider

    def cancel(self, wid: str, reason: str = "cancelled by user") -> list[str]:
        """Stop ``wid`` and all its descendants; returns the ids that were stopped."""
        if wid in self.readers:
            token = self._reader_cancel.get(wid)
            return [wid] if token is not None and token.cancel(reason) else []
        if wid not in self.workers:
            raise ToolError(f"no worker {wid!r}")
        stopped = []
        for xid in self.subtree(wid):
            w = self.workers[xid]
            if w.final:
                continue
            w.stop_reason = w.stop_reason or reason
            stopped.append(xid)
            if w.session is not None and w.session.running:
                w.session.cancel(reason)
            elif w.handle is not None:
                w.handle.cancel()  # still queued: never started
        return stopped

    async def wait(self, ids: list[str]) -> list[Worker]:
        workers = [self.workers[i] for i in ids]
        await asyncio.gather(*(w.done.wait() for w in workers))
        return workers

    async def aclose(self, reason: str = "the app is closing") -> None:
        """Stop every worker (the app is closing, or the user left this session)."""
        for wid, w in list(self.workers.items()):
            if not w.final and w.parent is None:
                self.cancel(wid, reason)
        pending = [w.handle for w in self.workers.values() if w.handle and not w.handle.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if self._ticker is not None:
            self._ticker.cancel()

    # --- running a worker ----------------------------------------------------------------------

    async def _run(self, w: Worker, provider: Provider) -> None:
        timer: asyncio.TimerHandle | None = None
        try:
            async with self._sem:
                w.state, w.started = "running", self.clock()
                session = self._make_session(w, provider)
                w.session = session
                self._changed()
                self._ensure_ticker()
                if w.budget.deadline is not None:
                    delay = max(0.0, w.budget.deadline - self.clock())
                    timer = asyncio.get_running_loop().call_later(
                        delay, self._over_budget, w, "wall-clock budget used up")
                prompt = w.task if not w.context else (
                    f"{w.task}\n\nContext from the agent that started you:\n{w.context}")
                outcome = await session.run_turn(prompt)
            self._finish(w, outcome)
        except asyncio.CancelledError:
            self._finish(w, None, state="cancelled")
        except Exception as exc:  # a crash stops this worker only
            log.exception("worker %s crashed", w.id)
            self._finish(w, None, state="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            if timer is not None:
                timer.cancel()

    def _make_session(self, w: Worker, provider: Provider) -> Session:
        # A worker asks the same user under the same policy: "allow for this session" given to the
        # parent (or to a worker) holds for the whole tree, and --yes reaches workers too.
        session = self.make_session(WorkerPlan(self, w, self.session_of(w.parent), provider))
        session.add_listener(lambda ev: self._on_worker_event(w, ev))
        return session

    def _on_worker_event(self, w: Worker, ev: Event) -> None:
        changed = False
        if isinstance(ev, TextDelta):
            w.partial += ev.text
        elif isinstance(ev, MessageAdded):
            w.partial = ""
            if ev.message.role == "assistant":
                w.iterations += 1
                changed = True
        elif isinstance(ev, ToolCallStarted):
            w.tool, changed = ev.label or ev.name, True
        elif isinstance(ev, ToolCallFinished):
            w.tool, changed = "", True
        elif isinstance(ev, Usage):
            used = ev.prompt_tokens + ev.completion_tokens
            w.tokens += used
            for x in (w, *self.ancestors(w.id)):
                x.subtree_tokens += used
                if x.budget.max_tokens is not None and x.subtree_tokens > x.budget.max_tokens:
                    self._over_budget(x, "token budget used up")
            changed = True
        if changed:
            self._changed()

    def _over_budget(self, w: Worker, reason: str) -> None:
        if w.final:
            return
        self.cancel(w.id, reason)
        w.stop_reason = reason

    def _finish(self, w: Worker, outcome: TurnOutcome | None, *, state: str = "",
                error: str = "") -> None:
        if w.final:
            return
        w.finished, w.finished_wall, w.tool = self.clock() or 1e-9, self.wall(), ""
        if not w.started:
            w.started = w.finished
        budget_stop = w.stop_reason and w.stop_reason != "cancelled by user" and (
            "budget" in w.stop_reason)
        if outcome is not None and outcome.status == "finished":
            capped = outcome.text.startswith(f"Stopped after {outcome.iterations} tool rounds")
            w.state = "over_budget" if capped else "done"
            if capped:
                w.stop_reason = f"tool-round budget ({w.budget.max_iterations}) used up"
            w.result = w.work_so_far() if capped else outcome.text.strip()
        elif outcome is not None and outcome.status == "failed":
            w.state, w.error = "failed", outcome.error
            w.result = w.work_so_far()
        else:
            w.state = state or ("over_budget" if budget_stop else "cancelled")
            w.error = error
            w.result = w.work_so_far()
        if w.state == "cancelled" and not w.stop_reason:
            w.stop_reason = "cancelled"
        # Children of a finished worker have nobody left to report to.
        for child in w.children:
            if not self.workers[child].final:
                self.cancel(child, f"its parent {w.id} ended")
        self.root.emit(WorkerFinished(
            self.root.turn_id or "", worker_id=w.id, parent_id=w.parent or "root",
            label=w.label, state=w.state, stop_reason=w.stop_reason,
            result=w.result[:RESULT_CHARS], full_result_len=len(w.result), error=w.error,
            tokens=w.tokens, iterations=w.iterations, elapsed=w.elapsed(w.finished)))
        self._report(w)
        w.done.set()
        self._changed()

    def _report(self, w: Worker) -> None:
        """Tell the parent: a notice message at its next step, and a notice event for views."""
        text = self.describe(w)
        self._mailbox.setdefault(w.parent, []).append(w.id)
        try:
            parent = self.session_of(w.parent)
        except (ToolError, KeyError):
            return
        if w.kind == "branch":
            parent.emit(BranchFinished(
                parent.turn_id or "", worker_id=w.id, question=w.task, state=w.state,
                result=w.result, stop_reason=w.stop_reason or w.error,
                elapsed=w.elapsed(w.finished)))
            return
        level = "info" if w.state == "done" else "warning"
        headline = text.splitlines()[0]
        parent.emit(Notice(parent.turn_id or "", headline, level=level))

    def describe(self, w: Worker) -> str:
        """A worker's outcome as the parent reads it."""
        took = f"{w.elapsed(w.finished or self.clock()):.0f}s"
        if w.kind == "branch":
            from app.core.swarm.branch import describe_branch

            return describe_branch(w, took)
        if w.state == "done":
            head = f"[worker {w.id} '{w.label}' finished in {took}]"
        elif w.state == "over_budget":
            head = f"[worker {w.id} '{w.label}' stopped after {took}: {w.stop_reason}]"
        elif w.state == "failed":
            head = f"[worker {w.id} '{w.label}' failed after {took}: {w.error}]"
        elif w.state == "cancelled":
            head = f"[worker {w.id} '{w.label}' cancelled after {took}: {w.stop_reason}]"
        else:
            return f"[worker {w.id} '{w.label}' is {w.state}]"
        if w.state == "done":
            return f"{head}\n{w.result or '(no text)'}"
        partial = w.result or "(nothing yet)"
        return f"{head}\nPartial result:\n{partial}"

    def take_reports(self, owner: str | None) -> list[Message]:
        """Results for ``owner`` not yet seen through wait/check, as notice messages."""
        ids = self._mailbox.pop(owner, [])
        out = []
        for wid in ids:
            w = self.workers[wid]
            if not w.reported:
                w.reported = True
                out.append(Message(role="notice", content=self.describe(w)))
        return out

    # --- views ---------------------------------------------------------------------------------

    def snapshot(self) -> SwarmSnapshot:
        now = self.clock()
        rows: list[WorkerRow] = []

        def visit(wid: str) -> None:
            w = self.workers[wid]
            seconds = None if w.budget.deadline is None or w.final else max(
                0.0, w.budget.deadline - now)
            rows.append(WorkerRow(
                w.id, w.parent, w.budget.depth, w.label, w.model, w.state, w.tool,
                w.elapsed(now), w.subtree_tokens, w.iterations, w.budget.max_iterations,
                w.tokens_left(), seconds, w.stop_reason))
            for child in w.children:
                visit(child)

        for wid, w in self.workers.items():
            if w.parent is None:
                visit(wid)
        for r in self.readers.values():
            rows.append(WorkerRow(r.id, None, 1, r.label, r.model, r.state, r.tool, r.elapsed(now),
                                  0, r.iterations, r.budget.max_iterations, None, None,
                                  r.stop_reason))
        return SwarmSnapshot(tuple(rows))

    def transcript(self, wid: str) -> tuple[tuple[str, str], ...]:
        return transcript_lines(self.readers.get(wid) or self.workers[wid])

    # --- readers -------------------------------------------------------------------------------

    def reader_started(self, label: str, task: str, model: str, cancel: CancelToken,
                       max_rounds: int) -> str:
        now = self.clock()
        rid = f"r{next(self._ids)}"
        self.readers[rid] = Worker(rid, None, label, task, "", (), model,
                                   WorkerBudget(max_iterations=max_rounds, depth=1), state="running",
                                   created=now, started=now)
        self._reader_cancel[rid] = cancel
        self._changed()
        self._ensure_ticker()
        return rid

    def reader_step(self, rid: str, step: str, rounds: int) -> None:
        r = self.readers[rid]
        r.tool, r.iterations = step[:60], rounds
        r.partial = (r.partial + "\n" + step).strip()
        self._changed()

    def reader_finished(self, rid: str, *, state: str, result: str, reason: str = "") -> None:
        r = self.readers[rid]
        r.state, r.result, r.stop_reason, r.tool = state, result, reason, ""
        r.finished, r.finished_wall = self.clock(), self.wall()
        r.partial = (r.partial + "\n" + result).strip()
        self._reader_cancel.pop(rid, None)
        r.done.set()
        self._changed()

    def status_lines(self, owner: str | None, *, recent: int = 3,
                     recent_s: float = 600.0) -> list[str]:
        """Running and recently finished workers under ``owner``, one line each."""
        from app.core.swarm.status import status_lines

        return status_lines(self, owner, recent=recent, recent_s=recent_s)

    def _changed(self) -> None:
        snap = self.snapshot()
        self.root.emit(SwarmUpdated("", snapshot=snap))
        for listener in list(self.listeners):
            listener(snap)

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        # Elapsed times and budgets move on their own: one snapshot a second while work runs.
        while any(not w.final for w in [*self.workers.values(), *self.readers.values()]):
            await asyncio.sleep(self.tick_s)
            self._changed()

def labelled(approver: Approver | None, label: str) -> Approver | None:
    """``approver``, with the question saying which worker asks."""
    if approver is None:
        return None
    ask = approver

    async def asked_by_worker(request: ApprovalRequest) -> Decision:
        return await ask(dataclasses.replace(request, label=f"[worker {label}] {request.label}"))

    return asked_by_worker
