"""Replaying an untrusted model's tool calls through the real Session.

The model controls tool names and arguments; the approver is a user who answers from a script
(by default: always *deny*, as the probe that found these holes did). Each attempt ends in one of
three verdicts: ``asked`` (the user was asked; with "deny" nothing ran), ``refused`` (refused
without a question: deny-list, failing preview, a tool's own refusal) or ``allowed`` (ran without
a question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.agent.events import Event, ToolCallFinished
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import (
    ApprovalRequest,
    Decision,
    PermissionGate,
    PermissionRequested,
    PermissionResolved,
)
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig, ToolsConfig
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools

# The README's example allow-list, which the probe used.
PROBE = PermissionsConfig(exec_allow=("pytest", "python", "git status"))


@dataclass
class Attempt:
    verdict: str  # "asked", "refused" or "allowed"
    result: ToolCallFinished
    asked: list[ApprovalRequest] = field(default_factory=list)


@dataclass
class Run:
    session: Session
    provider: ScriptedProvider
    events: list[Event]
    asked: list[ApprovalRequest]

    def attempts(self) -> list[Attempt]:
        out: list[Attempt] = []
        asked_ids = {e.call_id for e in self.events if isinstance(e, PermissionRequested)}
        resolved = {e.call_id: e for e in self.events if isinstance(e, PermissionResolved)}
        for result in (e for e in self.events if isinstance(e, ToolCallFinished)):
            requests = [a for a in self.asked if a.call_id == result.call_id]
            if result.call_id in asked_ids:
                verdict = "asked"
            elif result.call_id in resolved and not resolved[result.call_id].allowed:
                verdict = "refused"
            elif result.is_error and "refused" in result.content.lower():
                verdict = "refused"  # the tool itself refused (internal address, symlink, FIFO)
            else:
                verdict = "allowed"
            out.append(Attempt(verdict, result, requests))
        return out


async def replay(ws: Path, calls: Sequence[tuple[str, dict[str, Any]]], *,
                 permissions: PermissionsConfig = PROBE, tools: ToolsConfig | None = None,
                 answers: Sequence[Decision] = (), store: Path | None = None) -> Run:
    """Run one turn in which the model makes ``calls`` in order; the user answers ``answers``
    in order and "deny" after that."""
    ws.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - test setup before the loop works
    provider = ScriptedProvider([*(ScriptedReply.call(n, **a) for n, a in calls), "done"])
    queue = list(answers)
    asked: list[ApprovalRequest] = []

    async def approver(request: ApprovalRequest) -> Decision:
        asked.append(request)
        return queue.pop(0) if queue else "deny"

    session = Session(provider, tools=ToolRegistry(builtin_tools(tools, permissions)),
                      options=SessionOptions(workspace=ws),
                      store=SessionStore.create(store) if store else None,
                      permissions=PermissionGate(permissions), approver=approver)
    events: list[Event] = []
    session.add_listener(events.append)
    await session.run_turn("do it")
    return Run(session, provider, events, asked)


async def verdict_of(ws: Path, name: str, **args: Any) -> Attempt:
    """One call under the probe's configuration; the user would deny."""
    run = await replay(ws, [(name, args)])
    (attempt,) = run.attempts()
    return attempt
