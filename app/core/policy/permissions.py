"""Who may run what: the policy from config plus an approver hook the UIs plug into.

Each call is judged before it runs: the exec deny-list first (never overridable by a click), then
the tool's policy (``allow`` / ``deny`` / ``ask``), exec allow-lists, and what the user already
allowed for this session. ``ask`` goes to the approver: the TUI shows a modal, a headless run has
none and refuses (unless ``--yes``). A refusal becomes a tool result telling the model that
nothing ran and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, register_event
from app.core.policy.redact import redact
from app.core.policy.shell_policy import allowed_by, programs
from app.core.settings.tool_config import DEFAULT_TOOL_POLICY, POLICIES, PermissionsConfig
from app.core.tools.base import ToolError

log = logging.getLogger(__name__)

Decision = Literal["allow_once", "allow_session", "deny"]
DECISIONS: tuple[Decision, ...] = ("allow_once", "allow_session", "deny")


@dataclass(frozen=True)
class ApprovalRequest:
    """What the user is asked about: a label, the command or diff, and what "session" covers."""

    call_id: str
    tool: str
    label: str
    arguments: dict[str, Any]
    preview: str = ""  # the command, URL or unified diff (redacted)
    session_scope: str = ""  # e.g. "exec: python" — what "allow for this session" allows


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # for a refusal: the sentence the model is told
    by: str = "policy"  # "policy", "deny-list", "user", "session", "auto"


@register_event
@dataclass(frozen=True)
class PermissionRequested(Event):
    call_id: str
    tool: str
    label: str
    preview: str = ""


@register_event
@dataclass(frozen=True)
class PermissionResolved(Event):
    call_id: str
    tool: str
    allowed: bool
    by: str
    reason: str = ""


def _session_key(tool: str, args: dict[str, Any]) -> str:
    if tool == "exec":
        progs = programs(str(args.get("command") or ""))
        return f"exec: {' '.join(progs)}" if progs else "exec"
    return tool


@dataclass
class PermissionGate:
    """The policy for one session; ``session_allowed`` remembers "allow for this session"."""

    config: PermissionsConfig = field(default_factory=PermissionsConfig)
    session_allowed: set[str] = field(default_factory=set)

    async def check(self, *, turn_id: str, call_id: str, tool_name: str, tool: Any,
                    args: dict[str, Any], label: str, preview: Callable[[], str],
                    approver: Approver | None, auto_approve: bool, cancel: CancelToken,
                    emit: Callable[[Event], None]) -> Verdict:
        verdict = await self._decide(turn_id, call_id, tool_name, tool, args, label, preview,
                                     approver, auto_approve, cancel, emit)
        emit(PermissionResolved(turn_id, call_id=call_id, tool=tool_name,
                                allowed=verdict.allowed, by=verdict.by, reason=verdict.reason))
        return verdict

    async def _decide(self, turn_id: str, call_id: str, tool_name: str, tool: Any,
                      args: dict[str, Any], label: str, preview: Callable[[], str],
                      approver: Approver | None, auto_approve: bool, cancel: CancelToken,
                      emit: Callable[[Event], None]) -> Verdict:
        refusal = getattr(tool, "refusal", None)
        if tool_name == "exec" and callable(refusal):
            why = refusal(str(args.get("command") or ""))
            if why:
                return Verdict(False, f"the command is on the exec deny-list ({why}); nothing "
                                      "was run. Do not try to get around it.", "deny-list")
        policy = self.config.policy(tool_name)
        own = getattr(tool, "policy", None)  # an MCP tool: its server's policy from the config
        if own in POLICIES and tool_name not in self.config.tools:
            policy = own
        if (getattr(tool, "read_only", False) and tool_name not in self.config.tools
                and tool_name not in DEFAULT_TOOL_POLICY):
            policy = "allow"  # a tool that declares it changes nothing needs no question
        if policy == "deny":
            return Verdict(False, f"{tool_name} is disabled by the permissions policy; nothing "
                                  "was run.", "policy")
        if policy == "allow":
            return Verdict(True, by="policy")
        if tool_name == "exec" and allowed_by(str(args.get("command") or ""),
                                              self.config.exec_allow):
            return Verdict(True, by="policy")
        key = _session_key(tool_name, args)
        if key in self.session_allowed:
            return Verdict(True, by="session")
        if auto_approve:
            return Verdict(True, by="auto")
        if approver is None:
            return Verdict(False, f"{tool_name} needs the user's approval and nobody can give "
                                  "it here (a headless run without --yes); nothing was run. "
                                  "Tell the user what you would have done.", "policy")
        try:
            shown = redact(preview())
        except ToolError:
            # The preview runs the tool's own checks (file exists, old_text matches): when they
            # fail, the call itself fails the same way without touching anything, so there is
            # nothing to ask about; the model gets the tool's error.
            return Verdict(True, by="preview")
        except Exception as exc:
            shown = f"(no preview: {exc})"
        request = ApprovalRequest(call_id=call_id, tool=tool_name, label=redact(label),
                                  arguments={k: redact(str(v)) if isinstance(v, str) else v
                                             for k, v in args.items()},
                                  preview=shown, session_scope=key)
        emit(PermissionRequested(turn_id, call_id=call_id, tool=tool_name, label=request.label,
                                 preview=shown))
        decision = await self._ask(approver, request, cancel)
        if decision == "allow_session":
            self.session_allowed.add(key)
            return Verdict(True, by="user")
        if decision == "allow_once":
            return Verdict(True, by="user")
        if cancel.cancelled:
            return Verdict(False, "the turn was cancelled before the user answered; nothing "
                                  "was run.", "user")
        return Verdict(False, f"the user denied permission to run {tool_name}; nothing was run. "
                              "Do not retry it; ask the user or continue without it.", "user")

    @staticmethod
    async def _ask(approver: Approver, request: ApprovalRequest, cancel: CancelToken) -> Decision:
        task = asyncio.ensure_future(approver(request))
        stop = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()  # the UI closes its prompt when its coroutine is cancelled
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return "deny"
        try:
            decision = task.result()
        except Exception:
            log.exception("the approver failed; treating it as a denial")
            return "deny"
        return decision if decision in DECISIONS else "deny"
