"""Who may run what: the policy from config plus an approver hook the UIs plug into.

Each call is judged before it runs: the exec deny-list first (never overridable by a click), then
the tool's policy (``allow`` / ``deny`` / ``ask``), exec and web allow-lists, and what the user
already allowed for this session. A shell command is parsed first (see ``app.core.policy``): only a
single plain command an allow entry covers runs unasked, and a command whose effect the analysis
cannot see is always asked about. "Allow for this session" is keyed on what was shown: the words
of the command on the button (``git status``), the host for ``web_fetch``. ``ask`` goes to the
approver: the TUI shows a modal, a headless run has none and refuses (unless ``--yes``). A call
whose preview fails is refused with the preview's error. A refusal becomes a tool result telling
the model that nothing ran and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, register_event
from app.core.policy.display import visible
from app.core.policy.exec_review import CommandReview
from app.core.policy.net_guard import host_key, host_matches
from app.core.policy.redact import redact
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
    preview: str = ""  # the command, URL or unified diff (redacted, control characters shown)
    session_scope: str = ""  # e.g. "exec: git status" — what "allow for this session" allows
    session_label: str = ""  # the same for the button: "`git status`", "example.com"
    note: str = ""  # why this is asked although the policy would allow it ("" when plain ask)


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""  # for a refusal: the sentence the model is told
    by: str = "policy"  # "policy", "deny-list", "user", "session", "auto", "preview"


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


def _scope(tool: str, args: dict[str, Any], review: CommandReview | None) -> tuple[str, str]:
    """(key, button label) of what "allow for this session" covers."""
    if review is not None:
        return review.session_key, review.session_label
    if tool == "web_fetch":
        host = host_key(str(args.get("url") or ""))
        if host:
            return f"web_fetch\x00{host}", host
    return tool, tool


def _scope_text(tool: str, key: str, label: str) -> str:
    if tool == "exec" and key.startswith("exec\x00"):
        return "exec: " + " ".join(key.split("\x00")[1:])
    if tool == "exec":
        return "exec: this exact command"
    if tool == "web_fetch" and "\x00" in key:
        return f"web_fetch: {label}"
    return tool


@dataclass
class PermissionGate:
    """The policy for one session; ``session_allowed`` remembers "allow for this session"."""

    config: PermissionsConfig = field(default_factory=PermissionsConfig)
    session_allowed: set[str] = field(default_factory=set)

    async def check(self, *, turn_id: str, call_id: str, tool_name: str, tool: Any,
                    args: dict[str, Any], label: str, preview: Callable[[], str],
                    approver: Approver | None, auto_approve: bool, cancel: CancelToken,
                    emit: Callable[[Event], None], workspace: Path | None = None) -> Verdict:
        verdict = await self._decide(turn_id, call_id, tool_name, tool, args, label, preview,
                                     approver, auto_approve, cancel, emit, workspace)
        emit(PermissionResolved(turn_id, call_id=call_id, tool=tool_name,
                                allowed=verdict.allowed, by=verdict.by, reason=verdict.reason))
        return verdict

    async def _decide(self, turn_id: str, call_id: str, tool_name: str, tool: Any,
                      args: dict[str, Any], label: str, preview: Callable[[], str],
                      approver: Approver | None, auto_approve: bool, cancel: CancelToken,
                      emit: Callable[[Event], None], workspace: Path | None) -> Verdict:
        review: CommandReview | None = None
        reviewer = getattr(tool, "review", None)
        if tool_name == "exec" and callable(reviewer) and workspace is not None:
            try:
                review = reviewer(args, workspace)
            except ToolError as exc:
                return Verdict(False, f"{exc}; nothing was run.", "preview")
            assert review is not None
            if review.refusal:
                return Verdict(False, f"the command is on the exec deny-list ({review.refusal}); "
                                      "nothing was run. Do not try to get around it.", "deny-list")
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
        # A command whose effect the analysis cannot see is put to the user whatever the policy.
        note = f"Nanobot cannot tell what this command runs: {review.unsure}." \
            if review is not None and review.unsure else ""
        # A tool may name calls that always deserve a question (a write into .git/).
        must_ask = getattr(tool, "must_ask", None)
        if not note and callable(must_ask) and workspace is not None:
            note = str(must_ask(args, workspace) or "")
        key, button = _scope(tool_name, args, review)
        if not note:
            if policy == "allow":
                return Verdict(True, by="policy")
            if review is not None and review.allowed_by(self.config.exec_allow):
                return Verdict(True, by="policy")
            if tool_name == "web_fetch" and host_matches(str(args.get("url") or ""),
                                                          self.config.web_allow):
                return Verdict(True, by="policy")
        if review is not None and review.session_allows(self.session_allowed):
            return Verdict(True, by="session")
        if review is None and key in self.session_allowed:
            return Verdict(True, by="session")
        if auto_approve:
            return Verdict(True, by="auto")
        if approver is None:
            why = f" ({review.unsure})" if review is not None and review.unsure else ""
            return Verdict(False, f"{tool_name} needs the user's approval{why} and nobody can "
                                  "give it here (a headless run without --yes); nothing was run. "
                                  "Tell the user what you would have done.", "policy")
        try:
            shown = visible(redact(preview()))
        except ToolError as exc:
            # The preview runs the tool's own checks (file exists, old_text matches, text not
            # binary): a failing preview refuses the call, so nothing runs on a state nobody saw.
            return Verdict(False, f"{exc}; nothing was run.", "preview")
        except Exception as exc:
            log.warning("preview of %s failed: %s", tool_name, exc)
            return Verdict(False, f"could not show what {tool_name} would do "
                                  f"({type(exc).__name__}); nothing was run.", "preview")
        request = ApprovalRequest(call_id=call_id, tool=tool_name, label=visible(redact(label)),
                                  arguments={k: visible(redact(str(v))) if isinstance(v, str)
                                             else v for k, v in args.items()},
                                  preview=shown, session_scope=_scope_text(tool_name, key, button),
                                  session_label=visible(redact(button)), note=visible(redact(note)))
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
