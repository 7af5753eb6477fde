"""One worker: a task, the tools it may use, the context it was handed and a budget.

The budget shrinks down the tree: a child gets half its parent's tool rounds and depth + 1, and
inherits what is left of the parent's wall-clock and token budgets. :class:`WorkerStore` lets a
worker's session write into its root session's event log, tagged with the worker id.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.agent.events import Event
from app.core.agent.messages import Message
from app.core.agent.session import Session
from app.core.store.session_store import SessionStore

# How a worker ended. "over_budget" carries the budget that ran out in ``stop_reason``.
FINAL_STATES = ("done", "failed", "cancelled", "over_budget")


class BudgetError(Exception):
    """A spawn the budget does not allow (too deep, nothing left)."""


@dataclass(frozen=True)
class WorkerBudget:
    max_iterations: int
    max_depth: int = 3
    depth: int = 0
    deadline: float | None = None  # on the swarm's monotonic clock
    max_tokens: int | None = None

    def child(self, now: float, *, timeout_s: float | None = None,
              tokens_left: int | None = None) -> WorkerBudget:
        """The budget of a worker spawned under this one."""
        if self.depth + 1 > self.max_depth:
            raise BudgetError(f"max depth {self.max_depth} reached: a worker at depth "
                              f"{self.depth} cannot spawn another")
        if self.deadline is not None and self.deadline <= now:
            raise BudgetError("no wall-clock time left in the budget")
        if tokens_left is not None and tokens_left <= 0:
            raise BudgetError("no tokens left in the budget")
        deadline = self.deadline
        if timeout_s is not None:
            deadline = min(deadline, now + timeout_s) if deadline is not None else now + timeout_s
        tokens = self.max_tokens if tokens_left is None else tokens_left
        if self.max_tokens is not None and tokens is not None:
            tokens = min(tokens, self.max_tokens)
        return replace(self, max_iterations=max(1, self.max_iterations // 2), depth=self.depth + 1,
                       deadline=deadline, max_tokens=tokens)


@dataclass
class Worker:
    id: str
    parent: str | None  # None: spawned by the root session
    label: str
    task: str
    context: str
    tools: tuple[str, ...]
    model: str
    budget: WorkerBudget
    state: str = "queued"
    tool: str = ""  # the tool running now, as its label
    created: float = 0.0
    started: float = 0.0
    finished: float = 0.0
    finished_wall: float = 0.0
    tokens: int = 0  # this worker's own
    subtree_tokens: int = 0  # its own plus its descendants'
    iterations: int = 0
    result: str = ""
    error: str = ""
    stop_reason: str = ""
    reported: bool = False  # its result already reached the parent (wait/check)
    children: list[str] = field(default_factory=list)
    session: Session | None = None
    partial: str = ""  # text streamed since the last committed message
    done: asyncio.Event = field(default_factory=asyncio.Event)
    handle: asyncio.Task[None] | None = None
    # A branch is a worker that starts from a copy of its parent's conversation, with read-only
    # tools and nobody to ask (app/core/swarm/branch.py).
    kind: str = "worker"
    history: list[Message] = field(default_factory=list)
    system_prompt: str = ""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def elapsed(self, now: float) -> float:
        if not self.started:
            return 0.0
        return (self.finished or now) - self.started

    def tokens_left(self) -> int | None:
        if self.budget.max_tokens is None:
            return None
        return max(0, self.budget.max_tokens - self.subtree_tokens)

    def work_so_far(self) -> str:
        """The worker's text so far: its last non-empty reply, or what it was streaming."""
        if self.partial.strip():
            return self.partial.strip()
        history = self.session.history if self.session is not None else []
        for m in reversed(history):
            if m.role == "assistant" and m.content.strip():
                return m.content.strip()
        return ""


class WorkerStore(SessionStore):
    """A worker session's store: records go to the root's log, tagged ``worker=<id>``."""

    def __init__(self, root: SessionStore, worker_id: str) -> None:
        super().__init__(root.path, max_bytes=root.max_bytes, lock=False)  # root writes
        self.root = root
        self.worker_id = worker_id

    @property
    def session_id(self) -> str:
        return self.root.session_id

    def append(self, event: Event, **extra: Any) -> int:
        seq = self.root.append(event, worker=self.worker_id, **extra)
        if seq:
            self.last_seq = seq
        return seq

    def close(self) -> None:
        pass  # the root session owns the file


def transcript_lines(worker: Worker, *, max_chars: int = 2000) -> tuple[tuple[str, str], ...]:
    """A worker's conversation as (kind, text) lines for a transcript view."""
    lines: list[tuple[str, str]] = []
    history: list[Message] = worker.session.history if worker.session is not None else []
    if not history:
        lines.append(("task", worker.task))
    for m in history:
        if m.role == "user":
            lines.append(("task", m.content))
        elif m.role == "assistant":
            if m.content.strip():
                lines.append(("assistant", m.content.strip()))
            for c in m.tool_calls:
                lines.append(("call", f"{c.name} {c.arguments_json()}"))
        elif m.role == "tool":
            text = m.content if len(m.content) <= max_chars else (
                m.content[:max_chars] + f"… ({len(m.content):,} chars)")
            lines.append(("error" if m.is_error else "result", text))
        elif m.role in ("notice", "summary"):
            lines.append(("notice", m.content))
    if worker.partial.strip():
        lines.append(("assistant", worker.partial.strip()))
    if worker.final:
        reason = worker.stop_reason
        end = reason if reason.startswith(worker.state) else (
            f"{worker.state}: {reason}" if reason else worker.state)
        lines.append(("end", end))
    return tuple(lines)
