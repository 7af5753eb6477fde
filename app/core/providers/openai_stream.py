"""One OpenAI-style chat reply, from its chunks (or a whole non-streamed completion) to events.

Strict on purpose: a chunk that is not a JSON object, a ``delta`` or ``choices`` of the wrong shape,
and a reply that ends without a finish reason or ``[DONE]`` or that holds nothing at all raise a
retryable :class:`ProviderError`, so the fallback chain takes over and the user is told, instead of
an answer that silently lacks a piece. ``max_tokens`` is enforced here too: a server that keeps
sending past it is cut off and the reply ends as ``length``.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from typing import Any

from app.core.agent.messages import ToolCall, new_call_id
from app.core.providers.base import (
    FinishChunk,
    NoticeChunk,
    ProviderError,
    ProviderEvent,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.wire.think import ThinkSplitter
from app.core.wire.tool_calls import loads_lenient

log = logging.getLogger(__name__)

RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
# Pieces a server may send beyond max_tokens before it is cut off (a piece is one chunk with
# content; servers send a token or more per chunk, so this never cuts an honest reply).
PIECE_SLACK = 16


@dataclass(frozen=True)
class StreamLimits:
    """How long to wait for a server (seconds) and when to say that we are waiting."""

    first_byte_s: float = 120.0  # from the request to the first byte of the reply
    idle_s: float = 60.0  # between two reads once the reply has started
    notice_after_s: float = 10.0  # a "waiting for the server" notice after this long, then every 30 s


def limits_from(resilience: Any) -> StreamLimits:
    """The limits a ``[resilience]`` config section sets."""
    return StreamLimits(first_byte_s=resilience.first_byte_timeout_s,
                        idle_s=resilience.idle_timeout_s, notice_after_s=resilience.wait_notice_s)


def malformed(name: str, what: str) -> ProviderError:
    return ProviderError(f"{name}: malformed reply: {what}", retryable=True)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if value >= 0 else None


class ReplyAssembler:
    """Feed it chunks; it yields events and knows whether the reply ended properly."""

    def __init__(self, name: str, max_tokens: int | None = None, *,
                 allow_empty: bool = False) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.allow_empty = allow_empty
        self.splitter = ThinkSplitter()
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.done = False  # [DONE] seen
        self.pieces = 0
        self.output = False  # any text, reasoning or tool call
        self.overflow = False  # cut off client-side at max_tokens

    # --- streamed chunks -------------------------------------------------------------------

    def data(self, data: str) -> list[ProviderEvent]:
        """One SSE event's data."""
        if data.strip() == "[DONE]":
            self.done = True
            return []
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as exc:
            raise malformed(self.name, f"a chunk is not JSON ({exc.msg}): {data[:120]!r}") from None
        if not isinstance(chunk, dict):
            raise malformed(self.name, f"a chunk is not a JSON object: {data[:120]!r}")
        if chunk.get("error"):
            raise self._error(chunk["error"])
        events = self._usage(chunk.get("usage"))
        choices = chunk.get("choices")
        if choices is None:
            return events
        if not isinstance(choices, list):
            raise malformed(self.name, f"'choices' is {type(choices).__name__}, not a list")
        for choice in choices:
            if not isinstance(choice, dict):
                raise malformed(self.name, f"a choice is {type(choice).__name__}, not an object")
            delta = choice.get("delta")
            if delta is None:
                delta = {}
            if not isinstance(delta, dict):
                raise malformed(self.name, f"'delta' is {type(delta).__name__}, not an object")
            events += self._delta(delta)
            reason = choice.get("finish_reason")
            if reason:
                self.finish = str(reason)
        return events

    def _error(self, err: Any) -> ProviderError:
        # Mid-stream errors (OpenRouter, vLLM) carry the HTTP-like status as "code": keep it,
        # so a 429/5xx here is retried like one before the stream started.
        code = err.get("code") if isinstance(err, dict) else None
        status = code if isinstance(code, int) and 100 <= code < 600 else None
        if status is None and isinstance(code, str) and code.isdigit():
            status = int(code)
        return ProviderError(f"{self.name}: {err}", status=status,
                             retryable=status is None or status in RETRYABLE)

    def _usage(self, usage: Any) -> list[ProviderEvent]:
        if not usage:
            return []
        if not isinstance(usage, dict):
            log.warning("%s: usage is %s, not an object; ignored", self.name, type(usage).__name__)
            return []
        prompt, completion = _count(usage.get("prompt_tokens") or 0), _count(
            usage.get("completion_tokens") or 0)
        if prompt is None or completion is None:
            # Counts are bookkeeping, not the answer: a server that garbles them still answers.
            log.warning("%s: unreadable token counts %r; ignored", self.name, usage)
            return []
        if self.max_tokens and completion > self.max_tokens + PIECE_SLACK:
            self.overflow = True
        return [UsageChunk(prompt, completion)]

    def _delta(self, delta: dict[str, Any]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            events.append(ReasoningChunk(str(reasoning)))
        content = delta.get("content")
        if content:
            visible, thought = self.splitter.feed(str(content))
            if thought:
                events.append(ReasoningChunk(thought))
            if visible:
                events.append(TextChunk(visible))
        fragments = delta.get("tool_calls") or []
        if not isinstance(fragments, list):
            raise malformed(self.name, f"'tool_calls' is {type(fragments).__name__}, not a list")
        for tc in fragments:
            self._fragment(tc)
        if reasoning or content or fragments:
            self.output = True
            self.pieces += 1
            if self.max_tokens and self.pieces > self.max_tokens + PIECE_SLACK:
                self.overflow = True
        return events

    def _fragment(self, tc: Any) -> None:
        if not isinstance(tc, dict):
            raise malformed(self.name, f"a tool call is {type(tc).__name__}, not an object")
        index = tc.get("index", len(self.calls))
        if isinstance(index, bool) or not isinstance(index, int):
            raise malformed(self.name, f"a tool call index is {index!r}")
        fn = tc.get("function") or {}
        if not isinstance(fn, dict):
            raise malformed(self.name, f"a tool call's function is {type(fn).__name__}")
        slot = self.calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        slot["id"] = str(tc.get("id") or slot["id"])
        slot["name"] += str(fn.get("name") or "")
        args = fn.get("arguments") or ""
        slot["arguments"] += args if isinstance(args, str) else json.dumps(args)

    # --- a whole completion (a server that ignored "stream": true) -------------------------

    def completion(self, obj: Any) -> list[ProviderEvent]:
        if not isinstance(obj, dict):
            raise malformed(self.name, f"the JSON reply is {type(obj).__name__}, not an object")
        if obj.get("error"):
            raise self._error(obj["error"])
        choices = obj.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise malformed(self.name, "the JSON reply has no choices")
        message = choices[0].get("message")
        if not isinstance(message, dict):
            raise malformed(self.name, "the JSON reply's choice has no message")
        calls = message.get("tool_calls") or []
        if isinstance(calls, list):
            calls = [{**c, "index": i} if isinstance(c, dict) else c for i, c in enumerate(calls)]
        events = self._usage(obj.get("usage"))
        events += self._delta({k: v for k, v in message.items() if k != "tool_calls"}
                              | {"tool_calls": calls})
        self.finish = str(choices[0].get("finish_reason") or "stop")
        self.done = True
        return events

    # --- the end -------------------------------------------------------------------------------

    def end(self) -> list[ProviderEvent]:
        """The events that close the reply; raises when the reply did not end properly."""
        events: list[ProviderEvent] = []
        if self.overflow:
            self.finish = "length"
            events.append(NoticeChunk(
                f"{self.name} kept sending past max_tokens ({self.max_tokens}); the reply was "
                "cut off here", level="warning"))
        elif not self.done and self.finish is None:
            raise ProviderError(f"{self.name}: the reply stream ended before it was complete "
                                "(no finish reason and no [DONE])", retryable=True,
                                transient=True)
        rest, thought = self.splitter.flush()
        if thought:
            events.append(ReasoningChunk(thought))
        if rest:
            events.append(TextChunk(rest))
        if not self.output and not self.allow_empty:
            raise ProviderError(f"{self.name} sent an empty reply (no text and no tool call)",
                                retryable=True)
        for _, slot in sorted(self.calls.items()):
            raw = slot["arguments"]
            try:
                args = loads_lenient(raw) if raw.strip() else {}
            except ValueError:
                args = {"_raw": raw}
            events.append(ToolCallChunk(ToolCall(
                id=slot["id"] or new_call_id(), name=slot["name"],
                arguments=args if isinstance(args, dict) else {"_raw": raw})))
        events.append(FinishChunk(self.finish or "stop"))
        return events
