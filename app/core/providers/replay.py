"""Feed a recorded session log back through the real turn loop, for demos and snapshot tests.

A session file is a list of events. :class:`ReplayScript` cuts it into turns (the user's prompt)
and steps (one model reply each: the streamed text and reasoning pieces, tool calls, usage). The
:class:`ReplayProvider` yields those steps as provider events, and :func:`replay_tools` answers
the recorded tool calls with their recorded results, so the same ``Session`` and the same UI run as
they did live. Recorded steers are injected again after the step they followed; a recorded cancel
cancels the token again; a recorded failure raises the same error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.events import (
    Event,
    Injected,
    MessageAdded,
    ReasoningDelta,
    SessionStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnStarted,
    Usage,
)
from app.core.agent.messages import ToolCall
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    ToolSpec,
    UsageChunk,
)
from app.core.store.session_store import read_session
from app.core.tools.base import ToolContext, ToolRegistry, ToolResult

FINISHED_TEXT = "(the recorded session has no more replies; start Nanobot without --replay to chat)"


@dataclass
class ReplayStep:
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: list[ToolCall] = field(default_factory=list)
    usage: tuple[int, int] | None = None
    cancelled: bool = False
    error: str = ""
    inject_after: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.text or self.reasoning or self.calls or self.error or self.cancelled)


@dataclass
class ReplayTurn:
    prompt: str
    steps: list[ReplayStep] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedResult:
    name: str
    content: str
    is_error: bool
    cancels: bool  # the user cancelled while this call ran


@dataclass
class ReplayScript:
    model: str = "replay"
    provider: str = "replay"
    context_window: int = 8192
    turns: list[ReplayTurn] = field(default_factory=list)
    results: dict[str, RecordedResult] = field(default_factory=dict)
    skipped: int = 0
    skipped_lines: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ReplayScript:
        read = read_session(path)
        script = cls.from_events(read.events)
        script.skipped, script.skipped_lines = read.skipped, read.skipped_lines
        return script

    @classmethod
    def from_events(cls, events: list[Event]) -> ReplayScript:
        script = cls()
        turn: ReplayTurn | None = None
        step = ReplayStep()
        last_call: tuple[str, str, bool] | None = None  # id, content, is_error of the last result
        for ev in events:
            if isinstance(ev, SessionStarted):
                script.model, script.provider = ev.model or script.model, ev.provider
            elif isinstance(ev, TurnStarted):
                turn, step, last_call = ReplayTurn(ev.text), ReplayStep(), None
                script.turns.append(turn)
            elif turn is None:
                continue
            elif isinstance(ev, TextDelta):
                step.text.append(ev.text)
            elif isinstance(ev, ReasoningDelta):
                step.reasoning.append(ev.text)
            elif isinstance(ev, Usage):
                step.usage = (ev.prompt_tokens, ev.completion_tokens)
                script.context_window = ev.context_limit or script.context_window
            elif isinstance(ev, MessageAdded) and ev.message.role == "assistant":
                step.calls = list(ev.message.tool_calls)
                step.cancelled = ev.message.cancelled
                turn.steps.append(step)
                step = ReplayStep()
            elif isinstance(ev, ToolCallStarted):
                last_call = None
            elif isinstance(ev, ToolCallFinished):
                script.results[ev.call_id] = RecordedResult(ev.name, ev.content, ev.is_error, False)
                last_call = (ev.call_id, ev.name, ev.is_error)
            elif isinstance(ev, Injected) and turn.steps:
                turn.steps[-1].inject_after.append(ev.text)
            elif isinstance(ev, TurnCancelled):
                if not step.empty:  # cut off before the reply was committed (an old log)
                    step.cancelled = True
                    turn.steps.append(step)
                elif last_call is not None and not (turn.steps and turn.steps[-1].cancelled):
                    rec = script.results[last_call[0]]
                    script.results[last_call[0]] = RecordedResult(rec.name, rec.content,
                                                                  rec.is_error, True)
                step = ReplayStep()
            elif isinstance(ev, TurnFailed):
                step.error = ev.error
                turn.steps.append(step)
                step = ReplayStep()
        return script

    def tool_names(self) -> set[str]:
        names = {r.name for r in self.results.values()}
        names |= {c.name for t in self.turns for s in t.steps for c in s.calls}
        return names


class ReplayProvider:
    """Streams the recorded steps of the turn chosen by :meth:`start_turn`."""

    name = "replay"

    def __init__(self, script: ReplayScript, *, delay: float = 0.0) -> None:
        self.script = script
        self.model = script.model
        self.capabilities = Capabilities(supports_tools=True, native_tool_calls=True,
                                         supports_thinking=True,
                                         context_window=script.context_window)
        self.delay = delay
        self.on_inject: Callable[[str], Any] | None = None
        self._steps: list[ReplayStep] = []

    def start_turn(self, index: int) -> str:
        """Arm turn ``index``; returns the recorded prompt to submit."""
        turn = self.script.turns[index]
        self._steps = list(turn.steps)
        return turn.prompt

    async def _pause(self, cancel: CancelToken) -> bool:
        if self.delay:
            waiter = asyncio.ensure_future(cancel.wait())
            try:
                await asyncio.wait({waiter}, timeout=self.delay)
            finally:
                waiter.cancel()
        else:
            await asyncio.sleep(0)
        return cancel.cancelled

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        if not self._steps:
            yield TextChunk(FINISHED_TEXT)
            yield FinishChunk("stop")
            return
        step = self._steps.pop(0)
        if step.error:
            raise ProviderError(step.error)
        for piece in step.reasoning:
            if await self._pause(cancel):
                return
            yield ReasoningChunk(piece)
        for piece in step.text:
            if await self._pause(cancel):
                return
            yield TextChunk(piece)
        if step.cancelled:
            cancel.cancel("cancelled by user (recorded)")
            return
        for call in step.calls:
            yield ToolCallChunk(call)
        if step.usage:
            yield UsageChunk(*step.usage)
        yield FinishChunk("tool_calls" if step.calls else "stop")
        # After the reply is over, as when they were typed: a steer must not cut a recorded
        # reply that was complete.
        if step.inject_after and self.on_inject is not None:
            for text in step.inject_after:
                self.on_inject(text)

    async def aclose(self) -> None:
        return None


class ReplayTools(ToolRegistry):
    """Tools that answer with the recorded results, in recorded order per tool name."""

    def __init__(self, script: ReplayScript) -> None:
        super().__init__()
        self._queues: dict[str, list[RecordedResult]] = {}
        for rec in script.results.values():
            self._queues.setdefault(rec.name, []).append(rec)
        for name in script.tool_names():
            self.register(_QueuedTool(name, self._queues.setdefault(name, [])))


class _QueuedTool:
    def __init__(self, name: str, queue: list[RecordedResult]) -> None:
        self.spec = ToolSpec(name, f"{name} (recorded)")
        self._queue = queue

    def label(self, args: dict[str, Any]) -> str:
        detail = " ".join(str(v) for v in args.values())
        return f"{self.spec.name} {detail}".strip()

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if not self._queue:
            return ToolResult("(no recorded result for this call)", is_error=True)
        rec = self._queue.pop(0)
        if rec.cancels:
            ctx.cancel.cancel("cancelled by user (recorded)")
        return ToolResult(rec.content, is_error=rec.is_error)
