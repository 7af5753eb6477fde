"""The turn loop: build messages, stream, parse tool calls, run tools, repeat.

A :class:`Session` owns the canonical history and reports everything as events to its listeners
(the TUI bridge, the headless CLI, tests) and to its session file. Commands come in as plain method
calls: :meth:`run_turn`, :meth:`cancel`, :meth:`inject` and the ``thinking`` attributes.

The parts of a step live beside it as mixins of :class:`Session`: what the model is sent
(:mod:`app.core.agent.prompt`), streaming one reply (:mod:`app.core.agent.reply`) and running one
tool call (:mod:`app.core.agent.tool_run`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.core.agent import hooks as _hooks
from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    ErrorReported,
    Event,
    Injected,
    MessageAdded,
    Notice,
    ReplyRestarted,
    ReplySteered,
    SessionStarted,
    TextDelta,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from app.core.agent.messages import Message, ToolCall
from app.core.agent.program_step import ProgramStep
from app.core.agent.prompt import BASE_PROMPT, PromptBuilding
from app.core.agent.reply import STEERED, YIELD_EVERY, ReplyStreaming, _Reply
from app.core.agent.tool_run import ToolRunning
from app.core.context.context_gate import ContextGate, session_cache_dir
from app.core.context.tokens import TokenEstimator
from app.core.harness.harness import Harness
from app.core.policy.permissions import Approver, PermissionGate
from app.core.providers.base import (
    Provider,
    ProviderError,
)
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolRegistry, ToolResult
from app.core.wire.thread_repair import unique_call_ids

if TYPE_CHECKING:
    from app.core.context.compaction import ContextManager
    from app.core.swarm.status import SwarmHook
    from app.core.swarm.swarm import Swarm

log = logging.getLogger(__name__)

# Names that lived here before the reply, tool-call and prompt code moved to their own modules.
__all__ = ["BASE_PROMPT", "STEERED", "YIELD_EVERY", "OutputReader", "Session", "SessionOptions",
           "TurnOutcome"]

Listener = Callable[[Event], None]


class OutputReader(Protocol):
    async def read(self, session: Session, call: ToolCall, result: ToolResult, *,
                   room_tokens: int, turn_id: str, cancel: CancelToken) -> ToolResult | None: ...


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



class Session(PromptBuilding, ReplyStreaming, ToolRunning, ProgramStep):
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
        self._finish_text: str | None = None  # a hook's answer: the turn ends without the model
        self._avoid_tools: set[str] = set()  # tools the next step does not offer
        self._step_retried = False
        self._turn_start = 0  # index in history of this turn's user message
        self._turn_limit: int | None = None  # this turn's step budget (see limit_turn)
        # The agent harness (app/core/harness): workspace map, grounded reads, constrained and
        # voted steps, checked answers. None = the bare loop.
        self._harness = harness
        self._vote = ""  # the vote that chose the current step's calls
        self._answer_check = ""  # the grounding check's retry instruction, for one step
        self._harness_runs: list[str] = []  # what the request asks to run, run before the answer
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

    def finish_with(self, text: str) -> None:
        """End the running turn with ``text`` as its answer, without a model step (a hook ran
        the calls and has the answer: a learned recipe's answer form)."""
        self._finish_text = text

    def commit_message(self, turn_id: str, message: Message) -> None:
        """Add ``message`` to history as part of ``turn_id`` (a hook's tool calls)."""
        self._commit(turn_id, message)

    # --- the loop ----------------------------------------------------------------------------


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
        self._finish_text = None
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
            if self._finish_text is not None and not self._steer and not cancel.cancelled:
                return self._answer_without_model(turn_id, self._finish_text)
            if self.harness is not None:
                await self.harness.ground(self, turn_id, cancel)
                known = self.harness.absent_subject()
                if known:  # the question is about a name no file has: said without the model
                    return self._answer_without_model(turn_id, known)
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

    def _answer_without_model(self, turn_id: str, text: str) -> TurnOutcome:
        self._commit(turn_id, Message(role="assistant", content=text))
        self.emit(TextDelta(turn_id, text))
        self.emit(TurnFinished(turn_id, text=text, iterations=0))
        return TurnOutcome(turn_id, "finished", text, 0)

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
                    # (computed by a program first when the claim is a number)
                    stop = await self._compute_answer(turn_id, cancel)
                    if cancel.cancelled:
                        return self._finish_cancelled(turn_id, _Reply(cancelled=True), cancel,
                                                      iterations)
                    if stop:
                        self._commit(turn_id, Message(role="assistant", content=stop))
                        self.emit(TextDelta(turn_id, stop))
                        self.emit(TurnFinished(turn_id, text=stop, iterations=iterations))
                        return TurnOutcome(turn_id, "finished", stop, iterations)
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
        drafts = tuple(m.content for m in self.history[self._turn_start:]
                       if m.role == "assistant" and m.content)
        review = self.harness.review_answer(text, used_tools=used, drafts=drafts)
        if review.action == "accept":
            return text
        if review.action == "append":  # the output of a requested run, after the answer
            extra = f"\n\n{review.text}" if text.strip() else review.text
            self.emit(TextDelta(turn_id, extra))
            return text + extra
        if review.action == "run":
            self.emit(ReplyRestarted(turn_id, f"answer before the run: {review.problem}",
                                     withdrawn=True))
            self.emit(Notice(turn_id, f"Checked the answer: {review.problem}; running it first.",
                             level="info"))
            self._harness_runs = list(review.commands)
            return None
        claims = ", ".join(c.text for c in review.unsupported[:5])
        what = (f"it named {claims}, which nothing read in this turn shows" if claims
                else review.problem or "it repeated the request")
        if review.action == "retry":
            self.emit(ReplyRestarted(turn_id, f"answer not supported by what was read: {claims}",
                                     withdrawn=True))
            self.emit(Notice(turn_id, f"Checked the answer: {what}; asking again.", level="info"))
            self._answer_check = review.instruction
            return None
        self.emit(ReplyRestarted(turn_id, f"answer still not supported: {claims}",
                                 withdrawn=True))
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
