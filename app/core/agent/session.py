"""The turn loop: build messages, stream, parse tool calls, run tools, repeat.

A :class:`Session` owns the canonical history and reports everything as events to its listeners
(the TUI bridge, the headless CLI, tests) and to its session file. Commands come in as plain method
calls: :meth:`run_turn`, :meth:`cancel`, :meth:`inject` and the ``thinking`` attributes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.agent import hooks as _hooks
from app.core.agent import nudges
from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    ErrorReported,
    Event,
    Injected,
    MessageAdded,
    Notice,
    ReasoningDelta,
    ReplyRestarted,
    ReplySteered,
    SessionStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
    Usage,
)
from app.core.agent.messages import Message, ToolCall
from app.core.agent.tool_selection import select_tools
from app.core.context.context_gate import ContextGate, session_cache_dir
from app.core.context.tokens import TokenEstimator, request_chars
from app.core.harness.harness import Harness
from app.core.policy.permissions import Approver, PermissionGate, Verdict
from app.core.policy.redact import redact, redact_value
from app.core.providers.base import (
    FinishChunk,
    NoticeChunk,
    Provider,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolContext, ToolError, ToolRegistry, ToolResult
from app.core.tools.labels import result_label
from app.core.wire.thread_repair import unique_call_ids
from app.core.wire.tool_args import check_arguments, repair_call
from app.core.wire.tool_calls import CallStreamFilter, parse_tool_calls

if TYPE_CHECKING:
    from app.core.context.compaction import ContextManager
    from app.core.swarm.status import SwarmHook
    from app.core.swarm.swarm import Swarm

log = logging.getLogger(__name__)

Listener = Callable[[Event], None]


class OutputReader(Protocol):
    async def read(self, session: Session, call: ToolCall, result: ToolResult, *,
                   room_tokens: int, turn_id: str, cancel: CancelToken) -> ToolResult | None: ...

# The workspace path is left out on purpose: tools take relative paths, and a prompt that does not
# change from one directory to the next keeps small models' answers (and the prompt cache) stable.
BASE_PROMPT = (
    "You are Nanobot, a concise coding assistant running on the user's machine, in the user's "
    "project directory (file paths are relative to it). Answer briefly."
)

CUT_CALL = (
    "Error: this call was cut off at the token limit (max_tokens = {max_tokens}) before its "
    "arguments were complete, so it was not run. Make the call again with shorter arguments "
    "(for a long file, write it in parts)."
)

PARSE_HELP = (
    'Your tool call could not be parsed ({error}). To call a tool, reply with only a JSON '
    'object like {{"name": "read_file", "arguments": {{"path": "README.md"}}}}.'
)


@dataclass
class SessionOptions:
    workspace: Path = field(default_factory=Path.cwd)
    max_iterations: int = 20
    max_tokens: int = 2048
    temperature: float | None = None
    system_prompt: str = ""
    max_parse_failures: int = 3
    # More of the system prompt, each made for the model's window in tokens (project
    # instructions, the skill index); shared by the sessions /new and resume open next to this one.
    prompt_sections: list[Callable[[int], str]] = field(default_factory=list)


@dataclass
class TurnOutcome:
    turn_id: str
    status: str  # "finished" | "cancelled" | "failed"
    text: str
    iterations: int = 0
    error: str = ""


STEERED = "steered"  # the reason a reply is stopped when the user steers
YIELD_EVERY = 32  # chunks between yields to the event loop while a reply streams


@dataclass
class _Reply:
    text: str = ""
    reasoning: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False
    steered: bool = False  # stopped mid-text so that a steer could go in
    complete: bool = False  # the provider said the reply was over (a later cut changes nothing)
    finish_reason: str = ""


class Session:
    """One conversation with the model. Everything it is made of comes in through the constructor
    (the session factory in ``app/runtime/factory.py`` assembles it from config), so a session is
    complete from its first line: nothing is plugged in afterwards.

    ``swarm`` is this session's seat in a worker tree (workers, their reports and the status
    block), ``reader`` reads large or interpretive tool output for the model, ``compaction``
    keeps its requests inside the model's window, ``hooks`` are further features; they run in
    that order at each extension point (``app/core/agent/hooks.py``), with compaction last so it
    measures what the others added.
    """

    def __init__(self, provider: Provider, *, tools: ToolRegistry | None = None,
                 options: SessionOptions | None = None, store: SessionStore | None = None,
                 history: list[Message] | None = None,
                 permissions: PermissionGate | None = None, approver: Approver | None = None,
                 auto_approve: bool = False, gate: ContextGate | None = None,
                 swarm: SwarmHook | None = None, compaction: ContextManager | None = None,
                 reader: OutputReader | None = None, harness: Harness | None = None,
                 hooks: Sequence[_hooks.SessionHook] = ()) -> None:
        self.provider = provider
        self.tools = tools or ToolRegistry()
        self.options = options or SessionOptions()
        self.store = store
        self.history: list[Message] = list(history or [])
        self.store_error = ""  # why the session file could not be written ("" = it could)
        self.session_id = store.session_id if store else uuid.uuid4().hex[:12]
        self.thinking = False
        # The policy, and who is asked when it says "ask" (the TUI's modal; None headless).
        self._permissions = permissions or PermissionGate()
        self._approver = approver
        # Headless runs with --yes approve tools that would otherwise ask the user.
        self._auto_approve = auto_approve
        # Token estimates for text the provider has not counted, calibrated from its counts.
        self.tokens = TokenEstimator()
        # The one choke point where tool output enters context (oversized output is cached).
        self.gate = gate or ContextGate(session_cache_dir(self.session_id), self.tokens)
        self._admitted_tokens = 0  # tool output admitted since the last usage report
        # Reads large or interpretive tool output for the main model (the RLM delegate); None: off.
        self._reader = reader
        self.thinking_budget: int | None = None
        self.context_used = 0
        self._listeners: list[Listener] = []
        self._cancel: CancelToken | None = None
        self._turn_id: str | None = None
        self._steer: list[str] = []
        # The reply being streamed: its own cancel token (a steer stops it; a turn cancel stops
        # it too) and whether it may be cut now (not while a tool call may be streaming).
        self._step: CancelToken | None = None
        self._step_cuttable: Callable[[], bool] = lambda: False
        self._turns = 0
        self._started = bool(history)
        # Set after a repeated identical call: the next step gets no tools and must answer.
        self._force_answer = False
        self._avoid_tools: set[str] = set()  # tools the next step does not offer
        self._step_retried = False
        self._turn_start = 0  # index in history of this turn's user message
        self._turn_limit: int | None = None  # this turn's step budget (see limit_turn)
        # The agent harness (app/core/harness): workspace map, grounded reads, constrained and
        # voted steps, checked answers. None = the bare loop.
        self._harness = harness
        self._vote = ""  # the vote that chose the current step's calls
        self._answer_check = ""  # the grounding check's retry instruction, for one step
        self._swarm = swarm
        self._compaction = compaction
        self._hooks: tuple[_hooks.SessionHook, ...] = tuple(
            h for h in (swarm, *hooks, compaction) if h is not None)
        for hook in self._hooks:
            hook.attach(self)

    # --- what the session is made of (read-only: given to the constructor) -------------------

    @property
    def permissions(self) -> PermissionGate:
        return self._permissions

    @property
    def approver(self) -> Approver | None:
        return self._approver

    @property
    def auto_approve(self) -> bool:
        return self._auto_approve

    @property
    def reader(self) -> OutputReader | None:
        return self._reader

    @property
    def hooks(self) -> tuple[_hooks.SessionHook, ...]:
        return self._hooks

    @property
    def swarm(self) -> Swarm | None:
        """The worker tree this session belongs to (None: it cannot start workers)."""
        return self._swarm.swarm if self._swarm is not None else None

    @property
    def swarm_seat(self) -> SwarmHook | None:
        """Where this session sits in the worker tree (its owner id: None for the root)."""
        return self._swarm

    @property
    def compaction(self) -> ContextManager | None:
        return self._compaction

    @property
    def harness(self) -> Harness | None:
        return self._harness

    # --- events ------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def emit(self, event: Event) -> None:
        if self.store is not None and not self.store_error:
            try:
                self.store.append(event)
            except OSError as exc:
                self._store_failed(exc)
        self._tell(event)

    def _store_failed(self, exc: OSError) -> None:
        """Say once that the session file cannot be written, and stop trying: the file keeps a
        whole prefix of the session (never a record cut mid-line, never one from later on)."""
        assert self.store is not None
        self.store_error = f"{self.store.path}: {exc.strerror or exc}"
        log.warning("could not write the session file %s; saving stops", self.store_error)
        self._tell(Notice(self._turn_id or "", f"This session can no longer be saved "
                          f"({self.store_error}). The conversation goes on, but nothing from "
                          "here on is kept.", level="error"))

    def _tell(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", type(event).__name__)

    def _commit(self, turn_id: str, message: Message) -> None:
        self.history.append(message)
        self.emit(MessageAdded(turn_id, message))

    # --- state & commands --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._turn_id is not None

    @property
    def turn_id(self) -> str | None:
        return self._turn_id

    @property
    def cancel_token(self) -> CancelToken | None:
        """The running turn's cancel token (None when idle): for hooks that wait on something."""
        return self._cancel

    @property
    def context_limit(self) -> int:
        return self.provider.capabilities.context_window

    def cancel(self, reason: str = "cancelled by user") -> bool:
        """Cancel the running turn; returns whether there was one to cancel."""
        token = self._cancel
        return bool(token is not None and token.cancel(reason))

    def inject(self, text: str) -> bool:
        """Steer the running turn: ``text`` reaches the model at the next safe point.

        While the model writes plain text (or reasons) that point is now: the generation stops at
        its next chunk, the partial reply is kept (marked as steered), the steer goes in and the
        model goes on. A tool call being written or run finishes first.
        """
        if not self.running or not text.strip():
            return False
        self._steer.append(text)
        step = self._step
        if step is not None and self._step_cuttable():
            step.cancel(STEERED)
        return True

    @property
    def pending_steers(self) -> tuple[str, ...]:
        return tuple(self._steer)

    def take_steers(self) -> list[str]:
        """Withdraw the steers not yet delivered (to edit one, or after a cancel)."""
        taken, self._steer = self._steer, []
        return taken

    def set_provider(self, provider: Provider) -> None:
        self.provider = provider

    def context_estimate(self) -> int:
        """Tokens the next request starts from: the provider's last count, or (before the first
        one) an estimate of the system prompt and the history."""
        return self.context_used or self.tokens.tokens(
            self.system_prompt() + "".join(m.content for m in self.history))

    def limit_turn(self, iterations: int | None) -> None:
        """A step budget for the running turn (a hook's calibrated budget); never above
        ``options.max_iterations``; cleared when the next turn starts."""
        self._turn_limit = iterations if iterations is None else max(1, iterations)

    def answer_next(self) -> None:
        """The next model step must answer without calling tools (a hook ran the calls)."""
        self._force_answer = True

    def commit_message(self, turn_id: str, message: Message) -> None:
        """Add ``message`` to history as part of ``turn_id`` (a hook's tool calls)."""
        self._commit(turn_id, message)

    # --- the loop ----------------------------------------------------------------------------

    def system_prompt(self) -> str:
        prompt = BASE_PROMPT
        if self.options.system_prompt:
            prompt += "\n\n" + self.options.system_prompt
        for section in self.options.prompt_sections:
            try:
                text = section(self.context_limit)
            except Exception:  # a broken section never breaks a turn
                log.exception("a system prompt section failed")
                continue
            if text:
                prompt += "\n\n" + text
        return prompt

    def build_messages(self) -> list[Message]:
        """What the model sees this step: the system prompt plus the history."""
        messages = [Message(role="system", content=self.system_prompt()), *self.history]
        request = self._last_request()
        if self._answer_check:
            messages.append(Message(role="user", content=self._answer_check))
        elif self._force_answer:
            kept = self._without_failed_calls()
            messages = [messages[0], *kept]
            if kept and kept[-1].role != "user":  # some tool did help: ask for the answer
                turn = self._model_turn(kept[self._turn_start:])
                messages.append(Message(role="user", content=nudges.answer_now(turn, request)))
        elif (self.history and self.history[-1].role == "tool"
              and self.provider.capabilities.tool_nudge and not self._grounded(self.history[-1])):
            turn = self._model_turn()
            text = nudges.after_tool(turn, request, failed=self.history[-1].is_error)
            messages.append(Message(role="user", content=text))
        # Hooks first (a memory note finds the request by its words), then the harness attaches
        # the map and the grounded reads to the request.
        messages = _hooks.run_prepare(self, messages)
        if self.harness is not None:
            current = (self.history[self._turn_start] if self.running
                       and self._turn_start < len(self.history) else None)
            messages = self.harness.render(messages, current, self.context_limit)
        return messages

    def _grounded(self, message: Message) -> bool:
        h = self.harness
        if h is None:
            return False
        if message.role == "tool":
            return h.is_grounded(message.tool_call_id or "")
        return bool(message.tool_calls) and all(h.is_grounded(c.id) for c in message.tool_calls)

    def _model_turn(self, turn: list[Message] | None = None) -> list[Message]:
        """This turn's messages without the harness's grounded reads: the step plan counts only
        the calls the model made."""
        turn = self.history[self._turn_start:] if turn is None else turn
        return [m for m in turn if not self._grounded(m)]

    def _without_failed_calls(self) -> list[Message]:
        """This turn's history minus tool calls whose every result failed: for an answer-only
        step they are noise that small models echo back."""
        head, turn = self.history[:self._turn_start], self.history[self._turn_start:]
        failed = {m.tool_call_id for m in turn if m.role == "tool" and m.is_error}
        kept: list[Message] = []
        for m in turn:
            if m.role == "tool" and m.tool_call_id in failed:
                continue
            if m.role == "assistant" and m.tool_calls and all(c.id in failed for c in m.tool_calls):
                if m.content.strip():
                    kept.append(Message(role="assistant", content=m.content))
                continue
            kept.append(m)
        return [*head, *kept]

    def last_request(self) -> str:
        """The latest user message, on one line (at most 300 characters)."""
        return self._last_request()

    def last_request_text(self) -> str:
        """The user's latest message, whole (the harness reads what it names)."""
        return next((m.content for m in reversed(self.history) if m.role == "user"), "")

    def _last_request(self) -> str:
        for msg in reversed(self.history):
            if msg.role == "user":
                text = " ".join(msg.content.split())
                return text if len(text) <= 300 else text[:300] + "…"
        return ""

    def _deliver_steers(self, turn_id: str) -> bool:
        delivered = False
        while self._steer:
            text = self._steer.pop(0)
            self._commit(turn_id, Message(role="user", content=text))
            self.emit(Injected(turn_id, text))
            delivered = True
        if delivered:  # new instructions: the "answer now, no tools" lock no longer applies
            self._force_answer = False
        return delivered

    async def run_turn(self, text: str) -> TurnOutcome:
        if self.running:
            raise RuntimeError("a turn is already running; use inject() to steer it")
        self._turns += 1
        turn_id = f"t{self._turns}-{uuid.uuid4().hex[:6]}"
        cancel = CancelToken()
        self._turn_id, self._cancel = turn_id, cancel
        self._force_answer = self._step_retried = False
        self._turn_limit = None
        if not self._started:
            self._started = True
            self.emit(SessionStarted("", session_id=self.session_id, model=self.provider.model,
                                     provider=self.provider.name))
        self.emit(TurnStarted(turn_id, text=text, model=self.provider.model))
        _hooks.run_turn_started(self, turn_id)
        self._turn_start = len(self.history)
        self._commit(turn_id, Message(role="user", content=text))
        if self.harness is not None:
            self.harness.turn_started(text)
        try:
            await _hooks.run_before_turn(self, turn_id)
            if self.harness is not None:
                await self.harness.ground(self, turn_id, cancel)
            return await self._loop(turn_id, cancel)
        except ProviderError as exc:
            self.emit(TurnFailed(turn_id, error=str(exc)))
            return TurnOutcome(turn_id, "failed", "", error=str(exc))
        except Exception as exc:
            log.exception("turn %s failed", turn_id)
            msg = f"{type(exc).__name__}: {exc}"
            self.emit(TurnFailed(turn_id, error=msg))
            return TurnOutcome(turn_id, "failed", "", error=msg)
        finally:
            self._turn_id, self._cancel = None, None
            _hooks.run_turn_ended(self, turn_id)
            if self._steer:  # steers that arrived too late stay visible to the caller as queued
                log.info("%d steer message(s) arrived after the turn ended", len(self._steer))

    async def _loop(self, turn_id: str, cancel: CancelToken) -> TurnOutcome:
        iterations = 0
        parse_failures = 0
        cache: dict[str, ToolResult] = {}
        while True:
            self._deliver_steers(turn_id)
            for message in _hooks.run_before_step(self, turn_id):
                self._commit(turn_id, message)
            limit = min(self.options.max_iterations, self._turn_limit or 1 << 30)
            if iterations >= limit:
                why = ("agent.max_iterations" if limit == self.options.max_iterations
                       else "the step budget learned for this kind of task")
                note = (f"Stopped after {iterations} tool rounds ({why}); "
                        "ask me to continue if needed.")
                self.emit(Notice(turn_id, note, level="warning"))
                self.emit(TurnFinished(turn_id, text=note, iterations=iterations))
                return TurnOutcome(turn_id, "finished", note, iterations)
            iterations += 1
            reply = await self._stream_reply(turn_id, cancel)
            if reply.cancelled:
                return self._finish_cancelled(turn_id, reply, cancel, iterations)
            if reply.steered:
                if reply.text or reply.reasoning:
                    self._commit(turn_id, Message(role="assistant", content=reply.text,
                                                  reasoning=reply.reasoning, cancelled=True))
                self.emit(ReplySteered(turn_id, partial_text=reply.text))
                iterations -= 1  # not a tool round
                continue
            if not reply.calls and not reply.errors and not self._steer:
                checked = self._reviewed_answer(turn_id, reply.text)
                if checked is None:  # the answer claimed what the turn never saw: one more step
                    continue
                reply.text = checked
            # Unique in the whole history: results must pair with this call, not an older one.
            reply.calls = unique_call_ids(reply.calls, self.history)
            if reply.finish_reason == "length":
                self.emit(Notice(turn_id, f"The reply was cut off at the token limit "
                                 f"(max_tokens = {self.options.max_tokens}).", level="warning"))
            self._commit(turn_id, Message(role="assistant", content=reply.text,
                                          reasoning=reply.reasoning,
                                          tool_calls=tuple(reply.calls)))
            if reply.finish_reason == "length" and (reply.calls or reply.errors):
                # A cut call never runs: its arguments end wherever the limit fell (a half-written
                # file, a path that was never given). The model is told and may try again.
                parse_failures += 1
                text = CUT_CALL.format(max_tokens=self.options.max_tokens)
                for call in reply.calls:
                    self._commit(turn_id, Message(role="tool", content=text, tool_call_id=call.id,
                                                  name=call.name, is_error=True))
                if not reply.calls:
                    self._commit(turn_id, Message(role="notice", content=text))
                if parse_failures >= self.options.max_parse_failures:
                    text = f"Stopped: {parse_failures} replies in a row were cut off mid-call."
                    self.emit(Notice(turn_id, text, level="error"))
                    self.emit(TurnFinished(turn_id, text=text, iterations=iterations))
                    return TurnOutcome(turn_id, "finished", text, iterations)
                continue
            if reply.errors and not reply.calls:
                parse_failures += 1
                error = "; ".join(reply.errors)
                self.emit(ErrorReported(turn_id, f"malformed tool call: {error}"))
                if parse_failures >= self.options.max_parse_failures:
                    text = (f"Stopped: the model produced {parse_failures} malformed tool calls "
                            "in a row.")
                    self.emit(Notice(turn_id, text, level="error"))
                    self.emit(TurnFinished(turn_id, text=text, iterations=iterations))
                    return TurnOutcome(turn_id, "finished", text, iterations)
                self._commit(turn_id, Message(role="notice", content=PARSE_HELP.format(
                    error=error)))
                continue
            if not reply.calls:
                if self._steer:  # a steer arrived during the final answer: let the model see it
                    continue
                self.emit(TurnFinished(turn_id, text=reply.text, iterations=iterations))
                return TurnOutcome(turn_id, "finished", reply.text, iterations)
            for call in reply.calls:
                if cancel.cancelled:
                    break
                stop = await self.run_tool(turn_id, call, cancel, cache)
                if stop:  # a refused or repeated failing call: end with what happened
                    self._commit(turn_id, Message(role="assistant", content=stop))
                    self.emit(TextDelta(turn_id, stop))
                    self.emit(TurnFinished(turn_id, text=stop, iterations=iterations))
                    return TurnOutcome(turn_id, "finished", stop, iterations)
            if cancel.cancelled:
                return self._finish_cancelled(turn_id, _Reply(cancelled=True), cancel, iterations)

    def _reviewed_answer(self, turn_id: str, text: str) -> str | None:
        """A final answer after the harness's grounding check, before it enters history: ``text``
        itself, a replacement ("I could not find it"), or None when the model gets one
        extractive retry first (the draft never enters history: the model would copy it)."""
        if self.harness is None:
            return text
        used = any(m.role == "tool" for m in self.history[self._turn_start:])
        review = self.harness.review_answer(text, used_tools=used)
        if review.action == "accept":
            return text
        claims = ", ".join(c.text for c in review.unsupported[:5])
        what = (f"it named {claims}, which nothing read in this turn shows" if claims
                else "it repeated the request")
        if review.action == "retry":
            self.emit(ReplyRestarted(turn_id, f"answer not supported by what was read: {claims}"))
            self.emit(Notice(turn_id, f"Checked the answer: {what}; asking again.", level="info"))
            self._answer_check = review.instruction
            return None
        self.emit(ReplyRestarted(turn_id, f"answer still not supported: {claims}"))
        self.emit(Notice(turn_id, f"Checked the answer again: {what}; not shown.",
                         level="warning"))
        self.emit(TextDelta(turn_id, review.text))
        return review.text

    def _finish_cancelled(self, turn_id: str, reply: _Reply, cancel: CancelToken,
                          iterations: int) -> TurnOutcome:
        if reply.text or reply.reasoning or reply.calls:
            self._commit(turn_id, Message(role="assistant", content=reply.text,
                                          reasoning=reply.reasoning, cancelled=True))
        partial = reply.text
        self.emit(TurnCancelled(turn_id, partial_text=partial, reason=cancel.reason))
        return TurnOutcome(turn_id, "cancelled", partial, iterations)

    async def _stream_reply(self, turn_id: str, cancel: CancelToken) -> _Reply:
        caps = self.provider.capabilities
        turn = self._model_turn()
        if (caps.tool_nudge and turn and turn[-1].role == "tool" and not turn[-1].is_error
                and not self._answer_check
                and nudges.all_steps_done(turn, self._last_request())):
            self._force_answer = True  # small models: every step had its call, now the answer
        used = {c.name for m in turn for c in m.tool_calls}
        # An answer-only step keeps the tool list in the prompt (the provider forbids calls), so
        # the prompt up to the newest messages is the one the last step had: llama.cpp's prompt
        # cache holds it instead of evaluating it all again.
        tools = tuple(
            t for t in select_tools(self.tools.specs(), self._last_request(), caps.core_tools, used)
            if t.name not in self._avoid_tools)
        if self.harness is not None and tools:
            self.harness.refresh()
            if caps.core_tools:  # a small model: only the tools the request can need
                tools = self.harness.scope(tools, self._last_request(), used)
            tools = self.harness.offer(tools, self.gate.handles())
        callable_ = (self.harness.retry_callable(tools) if self.harness is not None
                     and self._answer_check else ())
        self._avoid_tools = set()
        # Catalog quirk: a model that always reasons gets an empty think block when thinking is off.
        prefill = caps.think_prefill if caps.always_reasons and not self.thinking else ""
        request = ProviderRequest(
            messages=tuple(self.build_messages()), tools=tools, answer_only=self._force_answer,
            callable=callable_,
            max_tokens=self.options.max_tokens,
            temperature=(self.harness.step_temperature(self.options.temperature)
                         if self.harness is not None else self.options.temperature),
            thinking=self.thinking, thinking_budget=self.thinking_budget, prefill=prefill)
        sent_chars = request_chars(request.messages, request.tools)
        self._answer_check = ""
        reply = _Reply()
        full: list[str] = []
        reasoning: list[str] = []
        filt = CallStreamFilter()
        step = CancelToken()

        def stop_step() -> None:
            step.cancel(cancel.reason)

        unlink = cancel.on_cancel(stop_step)
        self._step = step
        self._vote = ""
        self._step_cuttable = lambda: not filt.holding and not reply.calls
        if self._steer:  # a steer that came while the request was being built
            step.cancel(STEERED)
        try:
            n = 0
            async for chunk in self._step_stream(request, step):
                if step.cancelled:
                    break
                filt = self._on_chunk(turn_id, chunk, reply, full, reasoning, filt,
                                      sent_chars)
                n += 1
                if n % YIELD_EVERY == 0:
                    # A provider with chunks already queued never suspends: let the listeners'
                    # timers and the UI run now and then during a burst.
                    await asyncio.sleep(0)
        finally:
            unlink()
            self._step = None
            self._step_cuttable = lambda: False
        self._force_answer = False
        reply.reasoning = "".join(reasoning)
        text = "".join(full)
        if cancel.cancelled:
            reply.cancelled = True
            reply.text = filt.emitted
            return reply
        if step.cancelled and step.reason != STEERED:  # the provider cancelled on its own
            cancel.cancel(step.reason)
            reply.cancelled = True
            reply.text = filt.emitted
            return reply
        if step.cancelled and not reply.complete:  # stopped for a steer: keep what was shown
            reply.steered = True
            reply.text = filt.emitted
            return reply
        # An answer-only step keeps the tool list (one cached prefix) but its reply is the answer.
        return self._finish_reply(turn_id, reply, text, filt,
                                  bool(tools) and not request.answer_only)

    def _on_chunk(self, turn_id: str, chunk: ProviderEvent, reply: _Reply, full: list[str],
                  reasoning: list[str], filt: CallStreamFilter,
                  sent_chars: int) -> CallStreamFilter:
        """One provider event of a reply; returns the call filter (a restart makes a new one).
        ``sent_chars``: the request's size, which a usage report calibrates the estimator with."""
        if isinstance(chunk, TextChunk):
            full.append(chunk.text)
            visible = filt.feed(chunk.text)
            if visible:
                self.emit(TextDelta(turn_id, visible))
        elif isinstance(chunk, ReasoningChunk):
            reasoning.append(chunk.text)
            self.emit(ReasoningDelta(turn_id, chunk.text))
        elif isinstance(chunk, ToolCallChunk):
            reply.calls.append(chunk.call)
        elif isinstance(chunk, UsageChunk):
            self.context_used = chunk.prompt_tokens + chunk.completion_tokens
            self.tokens.calibrate(sent_chars, chunk.prompt_tokens)
            self._admitted_tokens = 0
            self.emit(Usage(turn_id, chunk.prompt_tokens, chunk.completion_tokens,
                            self.context_used, self.context_limit))
        elif isinstance(chunk, NoticeChunk):
            if chunk.restart:  # the provider failed mid-reply; another starts it again
                full.clear()
                reasoning.clear()
                reply.calls.clear()
                filt = CallStreamFilter()
                self.emit(ReplyRestarted(turn_id, chunk.text))
            self.emit(Notice(turn_id, chunk.text, level=chunk.level))
        elif isinstance(chunk, FinishChunk):
            reply.complete = True
            reply.finish_reason = chunk.reason
        return filt

    def _finish_reply(self, turn_id: str, reply: _Reply, text: str, filt: CallStreamFilter,
                      tools: bool) -> _Reply:
        if not tools:  # answer-only step: whatever came back is the answer
            reply.text = text
            rest = filt.finish(text)
            if rest:
                self.emit(TextDelta(turn_id, rest))
            return reply
        # A reply cut by the token limit is never completed by guessing (json-repair).
        parsed = parse_tool_calls(text, self.tools.names(), cut=reply.finish_reason == "length")
        if parsed.calls and not reply.calls:
            reply.calls = list(parsed.calls)
        reply.errors = list(parsed.errors)
        reply.text = parsed.text if (parsed.calls or parsed.errors) else text
        rest = filt.finish(reply.text)
        if rest:
            self.emit(TextDelta(turn_id, rest))
        return reply

    def _step_stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        """The provider's reply to one step, or, for a small model with voting on, the reply
        that won the vote (see app/core/harness/vote.py)."""
        h = self.harness
        if h is None or not h.votes_on(self.provider.capabilities, request):
            return self.provider.stream(request, cancel)
        return self._voted(h, request, cancel)

    async def _voted(self, h: Harness, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        from app.core.harness.vote import decide

        cfg = h.config
        decision = await decide(self.provider, request, cancel, k=cfg.vote_k,
                                max_samples=cfg.vote_max_samples,
                                temperature=cfg.vote_temperature,
                                answer_tokens=cfg.vote_answer_tokens, known=self.tools.names(),
                                request_text=self.last_request_text())
        h.count_vote(decision)
        self._vote = decision.votes
        for chunk in decision.sample.chunks():
            yield chunk

    async def run_tool(self, turn_id: str, call: ToolCall, cancel: CancelToken,
                       cache: dict[str, ToolResult] | None = None, *,
                       grounded: bool = False) -> str:
        """Run one call and commit its result; returns the turn's closing statement when the
        harness ends the turn after it (a refusal or failure being retried), else ""."""
        cache = {} if cache is None else cache
        h = self.harness
        call, _repairs = repair_call(call, self.tools)
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
            read = await self.reader.read(self, call, result, room_tokens=room, turn_id=turn_id,
                                          cancel=cancel)
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
