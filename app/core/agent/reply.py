"""Streaming one model reply: build the step's request, feed the provider's chunks to the
listeners as they come, stop for a steer or a cancel, and parse the tool calls at the end.

A mixin of :class:`app.core.agent.session.Session`, kept apart so the session module stays about
the turn loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.agent import nudges
from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    Event,
    Notice,
    ReasoningDelta,
    ReplyRestarted,
    TextDelta,
    Usage,
)
from app.core.agent.messages import Message, ToolCall
from app.core.agent.tool_selection import select_tools
from app.core.context.tokens import request_chars
from app.core.providers.base import (
    FinishChunk,
    NoticeChunk,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.wire.tool_calls import CallStreamFilter, parse_tool_calls

if TYPE_CHECKING:
    from app.core.agent.session import SessionOptions
    from app.core.context.context_gate import ContextGate
    from app.core.context.tokens import TokenEstimator
    from app.core.harness.harness import Harness
    from app.core.providers.base import Provider
    from app.core.tools.base import ToolRegistry

STEERED = "steered"  # the reason a reply is stopped when the user steers
YIELD_EVERY = 32  # chunks between yields to the event loop while a reply streams
LOOPING = "the reply repeats itself"  # the reason a reply stuck in a loop is stopped


def loop_start(text: str, *, times: int = 3, min_span: int = 240) -> int:
    """Where a reply that ends in the same block said at least ``times`` times over (at least
    ``min_span`` characters in all) starts repeating, or -1. Small models fall into such loops
    and would fill max_tokens; the first copy is kept. Checked for models marked small only: a
    big model's repeated rows or paragraphs are meant."""
    n = len(text)
    for period in range(4, min(600, n // times) + 1):
        block = text[n - period:]
        if text[n - times * period:] != block * times:
            continue
        start = n - times * period
        while start > 0 and text[start - 1] == text[start - 1 + period]:
            start -= 1  # back to where the periodic run begins, not a whole block
        if start > 0 and not text[start - 1].isspace():  # cut at a word's start
            ws = re.search(r"\s+", text[start:start + period])
            if ws is not None:
                start += ws.end()
        if n - start >= min_span:
            return start + period
    return -1


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


class ReplyStreaming:
    if TYPE_CHECKING:  # provided by the Session
        provider: Provider
        tools: ToolRegistry
        options: SessionOptions
        gate: ContextGate
        tokens: TokenEstimator
        thinking: bool
        thinking_budget: int | None
        context_used: int
        _admitted_tokens: int
        _force_answer: bool
        _avoid_tools: set[str]
        _answer_check: str
        _steer: list[str]
        _step: CancelToken | None
        _step_cuttable: Callable[[], bool]
        _vote: str

        @property
        def context_limit(self) -> int: ...

        @property
        def harness(self) -> Harness | None: ...

        def emit(self, event: Event) -> None: ...

        def build_messages(self) -> list[Message]: ...

        def _model_turn(self, turn: list[Message] | None = None) -> list[Message]: ...

        def _last_request(self) -> str: ...

        def last_request_text(self) -> str: ...

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
            if caps.small:  # its write's content comes from a whole-file request: keep it short
                tools = self.harness.brief_content(tools)
        callable_ = (self.harness.retry_callable(tools) if self.harness is not None
                     and self._answer_check else ())
        self._avoid_tools = set()
        # Catalog quirk: a model that always reasons gets an empty think block when thinking is off.
        prefill = caps.think_prefill if caps.always_reasons and not self.thinking else ""
        request = ProviderRequest(
            messages=tuple(self.build_messages()), tools=tools,
            # A small model offered no tool for this request answers in text only: without the
            # answer grammar the 0.5B model wrote a read_file call as its answer to "Say hello."
            answer_only=self._force_answer or (bool(caps.core_tools) and not tools
                                               and self.harness is not None),
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
                if (n % YIELD_EVERY == 0 and caps.small and not reply.calls
                        and loop_start("".join(full)) >= 0):
                    step.cancel(LOOPING)
                    break
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
        if step.cancelled and step.reason == LOOPING:
            text = text[:loop_start(text)].rstrip()
            self.emit(Notice(turn_id, "The reply kept repeating itself; it was stopped after "
                             "the first time.", level="warning"))
            return self._finish_reply(turn_id, reply, text, filt,
                                      bool(tools) and not request.answer_only)
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
