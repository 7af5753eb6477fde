"""Running one tool call: repair and check its arguments, ask the permission gate, run it
(cancellable), pass its output through the Context Gate, and commit the result to history.

A mixin of :class:`app.core.agent.session.Session`, kept apart so the session module stays about
the turn loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from app.core.agent import nudges
from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.messages import Message, ToolCall
from app.core.policy.permissions import Approver, PermissionGate, Verdict
from app.core.policy.redact import redact, redact_value
from app.core.tools.base import ToolContext, ToolError, ToolResult
from app.core.tools.labels import result_label
from app.core.wire.tool_args import check_arguments, repair_call

if TYPE_CHECKING:
    from app.core.agent.session import OutputReader, Session, SessionOptions
    from app.core.context.context_gate import ContextGate
    from app.core.context.tokens import TokenEstimator
    from app.core.harness.harness import Harness
    from app.core.providers.base import Provider
    from app.core.tools.base import ToolRegistry

# The session's logger: these methods were written as the session's, and its log lines keep its name.
log = logging.getLogger("app.core.agent.session")


class ToolRunning:
    if TYPE_CHECKING:  # provided by the Session
        provider: Provider
        tools: ToolRegistry
        options: SessionOptions
        history: list[Message]
        gate: ContextGate
        tokens: TokenEstimator
        _admitted_tokens: int
        _force_answer: bool
        _avoid_tools: set[str]
        _step_retried: bool
        _turn_start: int
        _vote: str

        @property
        def context_limit(self) -> int: ...

        @property
        def harness(self) -> Harness | None: ...

        @property
        def permissions(self) -> PermissionGate: ...

        @property
        def approver(self) -> Approver | None: ...

        @property
        def auto_approve(self) -> bool: ...

        @property
        def reader(self) -> OutputReader | None: ...

        def emit(self, event: Event) -> None: ...

        def _commit(self, turn_id: str, message: Message) -> None: ...

        def context_estimate(self) -> int: ...

        async def _whole_file(self, call: ToolCall, cancel: CancelToken) -> ToolCall: ...

        def _last_request(self) -> str: ...

    async def run_tool(self, turn_id: str, call: ToolCall, cancel: CancelToken,
                       cache: dict[str, ToolResult] | None = None, *,
                       grounded: bool = False, as_bound: bool = False) -> str:
        """Run one call and commit its result; returns the turn's closing statement when the
        harness ends the turn after it (a refusal or failure being retried), else "".
        ``as_bound``: the arguments are final (a learned recipe bound them), so a small model's
        write is not given new content by a whole-file request."""
        cache = {} if cache is None else cache
        h = self.harness
        call, _repairs = repair_call(call, self.tools)
        if not grounded and not as_bound:
            sent = call
            call = await self._whole_file(call, cancel)
            if h is not None:
                call = h.narrowed_write(call)
            if call is not sent:
                self._record_as_run(call)
        tool = self.tools.get(call.name)
        label = redact(tool.label(call.arguments) if tool else f"Calling {call.name}")
        self.emit(ToolCallStarted(turn_id, call_id=call.id, name=call.name,
                                  arguments=redact_value(call.arguments), label=label,
                                  grounded=grounded, votes="" if grounded else self._vote))
        started = time.monotonic()
        key = call.name + "\x00" + json.dumps(call.arguments, sort_keys=True, default=str)
        refused = repeated = False
        if key in cache:
            prev = cache[key]
            result = ToolResult("(identical call earlier in this turn; same result)\n"
                                + prev.content, prev.is_error)
            repeated = prev.is_error
            self._force_answer = not self._retry_step(call.name)
        elif tool is None:
            known = ", ".join(sorted(self.tools.names())) or "none"
            result = ToolResult(f"Error: unknown tool {call.name!r}. Available tools: {known}.",
                                is_error=True)
        else:
            problem = (h.review_call(call, tool.spec.parameters) if h is not None
                       else check_arguments(tool.spec.parameters, call.arguments))
            validate = getattr(tool, "validate", None)  # a full JSON-schema check (MCP tools)
            if not problem and callable(validate):
                problem = str(validate(call.arguments) or "")
            verdict = None if problem else await self._permit(turn_id, call, tool, label, cancel)
            if problem:
                result = ToolResult(f"Error: {problem}", is_error=True)
            elif verdict is not None and not verdict.allowed:
                result = ToolResult(f"Refused: {verdict.reason}", is_error=True)
                refused = True
            else:
                result = await self._admit(call, await self._execute(tool, call, cancel, turn_id),
                                           turn_id, cancel)
                if not cancel.cancelled:
                    if getattr(tool, "mutates", False) and not result.is_error:
                        cache.clear()  # the workspace changed: earlier results may be stale
                    cache[key] = result
        if cancel.cancelled and not result.is_error:
            result = ToolResult("[cancelled by user]", is_error=True)
        if h is not None and not cancel.cancelled:
            ran_ok = not result.is_error
            result = h.after_call(call, result)
            if ran_ok and result.is_error:
                # A write the harness's check found broken is not replayed from the cache: the
                # harness answers a repeat of it itself (with the error quoted).
                cache.pop(key, None)
        self.emit(ToolCallFinished(turn_id, call_id=call.id, name=call.name,
                                   content=result.content, is_error=result.is_error,
                                   duration=time.monotonic() - started,
                                   label=result_label(call.name, call.arguments, result.content,
                                                      result.is_error, result.meta)))
        self._commit(turn_id, Message(role="tool", content=result.content, tool_call_id=call.id,
                                      name=call.name, is_error=result.is_error))
        if h is None or grounded or cancel.cancelled:
            return ""
        return h.stop_after(call, result, refused=refused, repeated=repeated)

    def _record_as_run(self, call: ToolCall) -> None:
        """Put the call as it runs (its whole-file content, the file it was moved to) in place of
        the model's call in the history, so the next steps and the answer say what was done:
        moved from stats.py to .gitignore, the answer had said "I created stats.py"."""
        for i in range(len(self.history) - 1, -1, -1):
            m = self.history[i]
            if m.role == "assistant" and any(c.id == call.id for c in m.tool_calls):
                calls = tuple(call if c.id == call.id else c for c in m.tool_calls)
                self.history[i] = replace(m, tool_calls=calls)
                return

    def _retry_step(self, name: str) -> bool:
        """A small model that repeats a call while steps of the request remain gets one more
        step without that tool (it tends to loop on its last call); otherwise it must answer."""
        turn = self.history[self._turn_start:]
        if (self._step_retried or not self.provider.capabilities.tool_nudge
                or nudges.all_steps_done(turn, self._last_request())):
            return False
        self._step_retried = True
        self._avoid_tools = {name}
        return True

    async def _permit(self, turn_id: str, call: ToolCall, tool: Any, label: str,
                      cancel: CancelToken) -> Verdict:
        ctx = ToolContext(workspace=self.options.workspace, cancel=cancel, turn_id=turn_id,
                          gate=self.gate)
        preview = getattr(tool, "preview", None)
        return await self.permissions.check(
            turn_id=turn_id, call_id=call.id, tool_name=call.name, tool=tool,
            args=call.arguments, label=label,
            preview=(lambda: str(preview(call.arguments, ctx))) if callable(preview) else str,
            approver=self.approver, auto_approve=self.auto_approve, cancel=cancel, emit=self.emit,
            workspace=self.options.workspace)

    async def _admit(self, call: ToolCall, result: ToolResult, turn_id: str,
                     cancel: CancelToken) -> ToolResult:
        """Pass a result through the Context Gate with the room left in the window (or, for
        output too large or in need of interpretation, through the reader)."""
        reserve = min(self.options.max_tokens, self.context_limit // 4)
        used = self.context_estimate()
        room = (self.context_limit - used - self._admitted_tokens - reserve) // 2
        if self.reader is not None and not result.is_error and not cancel.cancelled:
            read = await self.reader.read(cast("Session", self), call, result, room_tokens=room,
                                          turn_id=turn_id, cancel=cancel)
            if read is not None:
                self._admitted_tokens += self.tokens.tokens(read.content)
                return read
        admitted = self.gate.admit(result.content, tool=call.name, args=call.arguments,
                                   budget_tokens=room, source_path=str(result.meta.get("source", "")))
        self._admitted_tokens += self.tokens.tokens(admitted.content)
        if admitted.content == result.content:
            return result
        return ToolResult(admitted.content, result.is_error,
                          {**result.meta, "gate_handle": admitted.handle, "gate_path": admitted.path})

    async def _execute(self, tool: Any, call: ToolCall, cancel: CancelToken,
                       turn_id: str) -> ToolResult:
        ctx = ToolContext(workspace=self.options.workspace, cancel=cancel, turn_id=turn_id,
                          gate=self.gate)
        task = asyncio.ensure_future(tool.run(call.arguments, ctx))
        waiter = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return ToolResult("[cancelled by user]", is_error=True)
        try:
            result: ToolResult = task.result()
            return result
        except ToolError as exc:
            return ToolResult(f"Error: {exc}", is_error=True)
        except Exception as exc:
            log.exception("tool %s crashed", call.name)
            return ToolResult(f"Error: tool {call.name} failed: {type(exc).__name__}: {exc}",
                              is_error=True)
