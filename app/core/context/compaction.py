"""Compaction that never blocks the user and never loses text.

Tiers, measured on each request against the *effective* window of the model in use (its context
window minus the reply reserve):

- ``summary`` (80 %): a background task asks the memory-slot model to summarise history up to a
  watermark (the last turn boundary). The result is swapped in at the next turn boundary; messages
  after the watermark stay verbatim. Nothing waits for it.
- ``mask`` (85 %): old tool outputs become one-line stubs citing their log record. No model call.
- ``truncate`` (95 %): :func:`~app.core.context.compaction_tiers.emergency_truncate`, deterministic.

History itself is never rewritten: the tiers shape the *request* in :meth:`ContextManager.prepare`
(a session hook), so the full text stays in memory and in the event log, and every summary and
stub cites the log span it stands for. A circuit breaker stops summaries after 3 failures in a row
and says so; ``/compact`` (:meth:`ContextManager.compact_now`) runs a summary on demand.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.agent.events import Event, MessageAdded, Notice, register_event
from app.core.agent.hooks import SessionHook
from app.core.agent.messages import Message
from app.core.agent.session import Session
from app.core.context.compaction_tiers import (
    Item,
    Source,
    emergency_truncate,
    expand,
    span_ref,
    stub_for,
)
from app.core.context.summarizer import Summarizer, SummaryError, SummaryTimeout, transcript_line
from app.core.settings.config import ContextConfig
from app.core.store.event_log import iter_log

log = logging.getLogger(__name__)

MASK_MIN_CHARS = 240  # outputs this short are not worth a stub


@register_event
@dataclass(frozen=True)
class CompactionEvent(Event):
    """A compaction tier did something: ``tier`` is summary/mask/truncate; ``action`` says what
    (started, ready, applied, failed, breaker_open, fired). ``span`` cites what it covers."""

    tier: str
    action: str
    detail: str = ""
    tokens_before: int = 0
    tokens_after: int = 0
    limit: int = 0
    duration: float = 0.0
    span: str = ""


@register_event
@dataclass(frozen=True)
class ContextMeasured(Event):
    """What one request sends against the window (never more than the window once the tiers
    have run), and what the session holds in all. A live gauge for the meter: not saved."""

    persist = False

    sent_tokens: int = 0
    stored_tokens: int = 0
    window: int = 0


@dataclass(frozen=True)
class Summary:
    text: str
    upto: int  # history messages [0, upto) are covered
    ref: str  # citation of the covered span
    message: Message


class ContextManager(SessionHook):
    """Keeps one session's requests inside the model's window; see the module docstring."""

    def __init__(self, *, summarizer: Summarizer | None = None,
                 config: ContextConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.summarizer = summarizer
        self.config = config or ContextConfig()
        self.clock = clock
        self.summary: Summary | None = None
        self.pending: Summary | None = None
        self.task: asyncio.Task[None] | None = None
        self.in_flight_upto = 0  # the watermark of the running summary (0: none running)
        self.failures = 0
        self.breaker_open = False
        self.masked: dict[int, Message] = {}  # history index -> its stub (once masked, stays)
        self.last_tier = ""  # what the context meter shows: the tier that fired last
        self.last_fraction = 0.0
        self._turn_start = 0
        self._session: Session | None = None
        self._seqs: list[int | None] = []

    def attach(self, session: Session) -> None:
        if self._session is not None:
            raise RuntimeError("a ContextManager belongs to one session")
        self._session = session
        self._seqs = self._initial_seqs()
        session.add_listener(self._on_event)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("this ContextManager was never given to a session")
        return self._session

    # --- bookkeeping ---------------------------------------------------------------------------

    @property
    def log_path(self) -> Path | None:
        store = self.session.store
        return store.path if store is not None else None

    def _worker_tag(self) -> str | None:
        return getattr(self.session.store, "worker_id", None)

    def _initial_seqs(self) -> list[int | None]:
        store, history = self.session.store, self.session.history
        if not history:
            return []
        if store is not None and store.path.exists():
            tag = self._worker_tag()
            seqs = [ln.seq for ln in iter_log(store.path)
                    if ln.record.get("type") == "MessageAdded" and ln.record.get("worker") == tag]
            if len(seqs) == len(history):
                return seqs
        return [None] * len(history)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, MessageAdded):
            store = self.session.store
            seq = store.last_seq if store is not None else 0
            self._seqs.append(seq or None)

    def source(self, index: int) -> Source:
        store = self.session.store
        seq = self._seqs[index] if index < len(self._seqs) else None
        log_id = getattr(store, "session_id", None) if store is not None else None
        return Source(index, log_id if seq else None, seq)

    def effective_window(self) -> int:
        limit = self.session.context_limit
        reserve = min(self.session.options.max_tokens, limit // 4)
        return max(limit - reserve, 64)

    @property
    def chars_per_token(self) -> float:
        """The session's token estimator's ratio (calibrated from the provider's counts)."""
        return self.session.tokens.chars_per_token

    def _tokens(self, items: list[Item]) -> int:
        return self.session.tokens.messages([it.message for it in items],
                                            self.session.tools.specs())

    def _offer_expand(self) -> None:
        # The expand tool is offered only once something cites the log: until then it would
        # only tempt small models into needless calls.
        from app.core.tools.expand import ExpandTool

        if self.session.tools.get(ExpandTool.spec.name) is None:
            self.session.tools.register(ExpandTool(self))

    def _emit(self, event: CompactionEvent) -> None:
        if event.action in ("applied", "fired", "ready"):
            self.last_tier = event.tier
        self.session.emit(event)

    # --- the hook ------------------------------------------------------------------------------

    def turn_started(self, session: Session, turn_id: str) -> None:
        self._turn_start = len(session.history)
        if self.pending is not None:
            self._apply_pending(turn_id)

    def turn_ended(self, session: Session, turn_id: str) -> None:
        items = self._view([Message(role="system", content=session.system_prompt()),
                            *session.history])
        if self._tokens(items) >= self.config.background_at * self.effective_window():
            self._start_summary(len(session.history), reason="auto")

    def prepare(self, session: Session, messages: list[Message]) -> list[Message]:
        window = self.effective_window()
        items = self._view(messages)
        tokens = self._tokens(items)
        self.last_fraction = tokens / window
        if tokens >= self.config.background_at * window:
            watermark = self._turn_start if session.running else len(session.history)
            self._start_summary(watermark, reason="auto")
        if tokens >= self.config.mask_at * window:
            items = self._mask(items, window, tokens)
            tokens = self._tokens(items)
        if tokens >= self.config.emergency_at * window:
            started = self.clock()
            # The tool specs go out with every request and cannot be cut: the messages get the
            # rest of the target.
            specs = self.session.tokens.messages([], self.session.tools.specs())
            target = max(int(self.config.background_at * window) - specs, 64)
            cut = emergency_truncate(items, budget=target, chars_per_token=self.chars_per_token,
                                     sources={i: self.source(i) for i in range(len(self._seqs))})
            items = cut.items
            after = self._tokens(items)
            if cut.dropped or cut.cut:
                self._offer_expand()
            self._emit(CompactionEvent(
                session.turn_id or "", tier="truncate", action="fired",
                detail=f"left out {cut.dropped} messages, cut {cut.cut} to head and tail",
                tokens_before=tokens, tokens_after=after, limit=window,
                duration=self.clock() - started))
            tokens = after
        self.last_fraction = tokens / window
        stored = session.tokens.messages(session.history, session.tools.specs())
        session.emit(ContextMeasured(session.turn_id or "", sent_tokens=tokens,
                                     stored_tokens=stored, window=session.context_limit))
        return [it.message for it in items]

    def _view(self, messages: list[Message]) -> list[Item]:
        """The request with the applied summary and existing stubs in place."""
        index = {id(m): i for i, m in enumerate(self.session.history)}
        items = [Item(m, index.get(id(m))) for m in messages]
        summary = self.summary
        if summary is not None:
            head = items[:1] if items and items[0].message.role == "system" else []
            rest = [it for it in items[len(head):]
                    if it.index is None or it.index >= summary.upto
                    or it.message.pinned]
            items = [*head, Item(summary.message), *rest]
        return [Item(self.masked[it.index], it.index)
                if it.index is not None and it.index in self.masked else it for it in items]

    def _mask(self, items: list[Item], window: int, tokens: int) -> list[Item]:
        started, original = self.clock(), tokens
        outputs = [i for i, it in enumerate(items)
                   if it.index is not None and it.message.role == "tool"]
        protected = set(outputs[-self.config.protect_recent_outputs:]) if (
            self.config.protect_recent_outputs) else set()
        target = self.config.background_at * window
        fresh: list[int] = []
        items = list(items)
        for pos in outputs:
            if tokens < target:
                break
            it = items[pos]
            if pos in protected or it.index is None or it.index in self.masked:
                continue
            if len(it.message.content) < MASK_MIN_CHARS:
                continue
            stub = stub_for(it.message, self.source(it.index))
            self.masked[it.index] = stub
            tokens -= int((len(it.message.content) - len(stub.content)) / self.chars_per_token)
            items[pos] = Item(stub, it.index)
            fresh.append(it.index)
        if fresh:
            self._offer_expand()
            self._emit(CompactionEvent(
                self.session.turn_id or "", tier="mask", action="fired",
                detail=f"masked {len(fresh)} old tool outputs",
                tokens_before=original, tokens_after=self._tokens(items), limit=window,
                duration=self.clock() - started,
                span=span_ref([self.source(i) for i in fresh])))
        return items

    # --- background summary --------------------------------------------------------------------

    def _start_summary(self, watermark: int, *, reason: str, manual: bool = False) -> str:
        if self.summarizer is None:
            return "no summariser is configured"
        if self.task is not None:
            return "a summary is already running"
        if self.breaker_open and not manual:
            return "summaries are off after repeated failures"
        covered = max(self.summary.upto if self.summary else 0,
                      self.pending.upto if self.pending else 0)
        watermark = self._fit_watermark(covered, watermark)
        if watermark - covered < 2:
            return "nothing new to summarise"
        self.in_flight_upto = watermark
        self.task = asyncio.get_running_loop().create_task(
            self._summarise(watermark, reason, manual))
        return "started"

    def _fit_watermark(self, covered: int, watermark: int) -> int:
        """Move the watermark back to a turn start so one summary call reads what it can in time.

        The rest stays verbatim and goes into a later summary. Cutting at a user message keeps
        tool calls and their results on the same side.
        """
        assert self.summarizer is not None
        budget = self.summarizer.input_chars
        history = self.session.history
        used, best = 0, 0  # best: the latest turn start whose prefix fits the budget
        for i in range(covered, watermark):
            if i > covered and history[i].role == "user":
                if used > budget:
                    return best or i  # at least the oldest turn, trimmed by the summariser
                best = i
            used += len(transcript_line(history[i])) + 2
        return watermark if used <= budget or not best else best

    async def _summarise(self, upto: int, reason: str, manual: bool) -> None:
        assert self.summarizer is not None
        base = self.pending or self.summary
        start = base.upto if base else 0
        history = self.session.history
        chunk = [m for m in history[start:upto] if not m.pinned]
        ref = span_ref([self.source(i) for i in range(0, upto)])
        turn = self.session.turn_id or ""
        began = self.clock()
        self._emit(CompactionEvent(turn, tier="summary", action="started",
                                   detail=f"{reason}: messages {start + 1}-{upto}", span=ref))
        smaller = False
        try:
            text = await self.summarizer.summarize(chunk, previous=base.text if base else "")
        except (SummaryError, Exception) as exc:  # any failure counts; the session goes on
            if not isinstance(exc, SummaryError):
                log.exception("summariser crashed")
            self.failures += 1
            # Out of time: the same piece would only time out again; the next try reads less.
            smaller = isinstance(exc, SummaryTimeout) and self.summarizer.shrink()
            self._emit(CompactionEvent(self.session.turn_id or "", tier="summary",
                                       action="failed", detail=str(exc) or type(exc).__name__,
                                       duration=self.clock() - began, span=ref))
            if self.failures >= self.config.breaker_failures and not self.breaker_open:
                self.breaker_open = True
                note = (f"Background summaries are off after {self.failures} failures in a row "
                        f"(last: {exc}). Old tool outputs are still masked and the emergency "
                        "tier still keeps requests inside the window; /compact tries again.")
                self._emit(CompactionEvent(self.session.turn_id or "", tier="summary",
                                           action="breaker_open", detail=note))
                self.session.emit(Notice(self.session.turn_id or "", note, level="warning"))
            return
        finally:
            self.task, self.in_flight_upto = None, 0
            if smaller and not self.breaker_open:
                self._start_summary(upto, reason=f"retry in a smaller piece "
                                                 f"(~{self.summarizer.input_tokens:,} tokens)")
        self.failures = 0
        if manual:
            self.breaker_open = False
        header = (f"Summary of the conversation before this point (messages 1-{upto}; "
                  f"full text in {ref}):")
        self.pending = Summary(text, upto, ref, Message(role="summary",
                                                        content=f"{header}\n{text}"))
        self._emit(CompactionEvent(self.session.turn_id or "", tier="summary", action="ready",
                                   detail=f"covers messages 1-{upto}; swapped in at the next turn",
                                   duration=self.clock() - began, span=ref))

    def _apply_pending(self, turn_id: str) -> None:
        pending = self.pending
        assert pending is not None
        system = Message(role="system", content=self.session.system_prompt())
        before = self._tokens(self._view([system, *self.session.history]))
        self.summary, self.pending = pending, None
        self._offer_expand()
        # Stubs are dropped with the swap: the turns kept after the watermark go back verbatim
        # (masking fires again if they alone are too big).
        self.masked = {}
        after = self._tokens(self._view([system, *self.session.history]))
        self._emit(CompactionEvent(turn_id, tier="summary", action="applied",
                                   detail=f"messages 1-{pending.upto} now a summary",
                                   tokens_before=before, tokens_after=after,
                                   limit=self.effective_window(), span=pending.ref))

    # --- commands ------------------------------------------------------------------------------

    def compact_now(self) -> str:
        """``/compact``: summarise everything before the running turn (or all of it, when idle).

        Returns what happened in words ("started", or why not). Works with the breaker open.
        """
        watermark = self._turn_start if self.session.running else len(self.session.history)
        return self._start_summary(watermark, reason="/compact", manual=True)

    async def wait_summary(self) -> None:
        """Wait for a running summary (tests and /compact in headless runs)."""
        task = self.task
        if task is not None:
            await asyncio.shield(task)

    def expand(self, ref: str) -> list[Message]:
        """The original messages behind a summary's or a stub's citation."""
        return expand(ref, history=self.session.history, log_path=self.log_path,
                      worker=self._worker_tag())
