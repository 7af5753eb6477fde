"""Retrieval first, then read: a provider that plans the ctx tool calls itself and hands the model
only a small window of lines.

Small models (0.5B-1.5B) pick tools and arguments unreliably and lose facts in long prompts, but
they read a ten-line excerpt well. So the searching is deterministic: an identifier in the question
(``crimson-falcon-42``, a quoted string, a UUID) is found with ``ctx_grep``; anything else goes to
``ctx_search``; the best line is read with ``ctx_slice`` (plus or minus ``window`` lines). Only the
final step reaches the model, with the question and those lines. Everything runs through the normal
:class:`~app.core.agent.session.Session` loop, so the calls are real tool calls, visible as events and in
the session file.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, ToolCall, new_call_id
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    Provider,
    ProviderEvent,
    ProviderRequest,
    ToolCallChunk,
)

READER_SYSTEM = (
    "You answer a question using only the excerpt given, which comes from a large document "
    "collection. Reply with the answer only: copy the exact value (number, code, name) from the "
    "excerpt. If the excerpt does not contain the answer, reply: not found."
)
_QUOTED = re.compile(r"[\"'`“‘]([^\"'`”’]{3,120})[\"'`”’]")
_TOKEN = re.compile(r"[\w][\w.:/-]*[\w]|\w")
_GREP_LINE = re.compile(r"^(\d+): [^:\n]*:\d+: (.*)$", re.MULTILINE)
GREP_LINES = 20
_BEST_LINE = re.compile(r"best line (\d+):")
_SLICE_PREFIX = re.compile(r"^\d+: ", re.MULTILINE)


def key_terms(question: str) -> list[str]:
    """Strings worth an exact grep: quoted text, and tokens that look like identifiers (a digit
    among letters, or inner ``-``/``_``/``.``), longest first."""
    keys = [m.group(1).strip() for m in _QUOTED.finditer(question)]
    for tok in _TOKEN.findall(question):
        has_digit = any(c.isdigit() for c in tok)
        has_alpha = any(c.isalpha() for c in tok)
        joined = any(c in tok for c in "-_.:/")
        if len(tok) >= 4 and ((has_digit and has_alpha) or (joined and has_alpha)
                              or (has_digit and len(tok) >= 6)):
            keys.append(tok)
    return sorted(dict.fromkeys(k for k in keys if k), key=len, reverse=True)


def grep_pattern(key: str) -> str:
    """A regex for ``key`` as a whole token: ``falcon-42`` must not match ``falcon-420``."""
    return r"(?<![\w-])" + re.escape(key) + r"(?![\w-])"


@dataclass
class _Step:
    name: str
    arguments: dict[str, object]
    content: str
    is_error: bool


def _turn(messages: tuple[Message, ...]) -> tuple[str, list[_Step]]:
    """The question of this turn and the tool steps taken since."""
    start = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    question = messages[start].content if start >= 0 else ""
    calls: dict[str, ToolCall] = {}
    steps: list[_Step] = []
    for m in messages[start + 1:]:
        if m.role == "assistant":
            for c in m.tool_calls:
                calls[c.id] = c
        elif m.role == "tool" and m.tool_call_id in calls:
            c = calls[m.tool_call_id]
            steps.append(_Step(c.name, c.arguments, m.content, m.is_error))
    return question, steps


class RetrievalFirstProvider:
    """Plans ctx tool calls deterministically; ``reader`` only answers from the window."""

    name = "retrieval-first"

    def __init__(self, reader: Provider, volume: str, *, window: int = 3, max_windows: int = 2,
                 k: int = 4, search_window: int = 1, max_tokens: int = 64) -> None:
        self.reader = reader
        self.volume = volume
        self.window = window
        self.max_windows = max_windows
        # Without an identifier to grep for, ranking is less sure: read the best line of each of
        # the top k results, with fewer lines around each, and let the model pick.
        self.k = k
        self.search_window = search_window
        self.max_tokens = max_tokens
        self.model = reader.model
        self.capabilities = Capabilities(
            supports_tools=True, native_tool_calls=True,
            context_window=reader.capabilities.context_window)
        # The prompt of the last read step, for benchmarks and tests.
        self.last_prompt = ""

    def plan(self, messages: tuple[Message, ...]) -> ToolCall | None:
        """The next tool call, or None when it is time to read."""
        question, steps = _turn(messages)
        v = self.volume
        if not steps:
            keys = key_terms(question)
            if keys:
                # A plain substring grep is a memchr-speed scan; a regex with look-arounds is tried
                # at every offset (0.4 s per 1M tokens here). Whole-token matching is done on the
                # returned lines instead, so look-alikes such as KEY0 are dropped.
                return self._call("ctx_grep", volume=v, pattern=keys[0], max_lines=GREP_LINES)
            return self._call("ctx_search", volume=v, query=question, k=self.k)
        last = steps[-1]
        slices = [s for s in steps if s.name == "ctx_slice"]
        targets, via_search = self._targets(steps)
        if last.name in ("ctx_grep", "ctx_search") and not targets:
            if last.name == "ctx_grep":
                return self._call("ctx_search", volume=v, query=question, k=self.k)
            return None
        limit, width = (self.k, self.search_window) if via_search else (self.max_windows,
                                                                        self.window)
        if len(slices) < min(len(targets), limit):
            line = targets[len(slices)]
            return self._call("ctx_slice", volume=v, line_start=max(1, line - width),
                              line_end=line + width)
        return None

    def _targets(self, steps: list[_Step]) -> tuple[list[int], bool]:
        """Lines to read, from the latest grep (its hits) or search (each result's best line),
        and whether they came from a search."""
        for s in reversed(steps):
            if s.is_error:
                continue
            if s.name == "ctx_grep":
                key = str(s.arguments.get("pattern", ""))
                whole = re.compile(grep_pattern(key)) if not s.arguments.get("regex") else None
                lines = [int(n) for n, text in _GREP_LINE.findall(s.content)
                         if whole is None or whole.search(text)]
                if lines:
                    return list(dict.fromkeys(lines)), False
            elif s.name == "ctx_search":  # overlapping chunks may share a best line: read it once
                return list(dict.fromkeys(int(x) for x in _BEST_LINE.findall(s.content))), True
        return [], False

    def _call(self, name: str, **arguments: object) -> ToolCall:
        return ToolCall(id=new_call_id(), name=name, arguments=dict(arguments))

    def reader_messages(self, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        question, steps = _turn(messages)
        excerpts = []
        for s in steps:
            if s.name == "ctx_slice" and not s.is_error:
                body = "\n".join(line for line in s.content.splitlines()
                                 if not line.startswith(("--- ", "[capped", "[end of")))
                excerpts.append(_SLICE_PREFIX.sub("", body).strip("\n"))
        excerpt = "\n...\n".join(excerpts) if excerpts else "(nothing relevant was found)"
        prompt = f"Excerpt:\n{excerpt}\n\nQuestion: {question}"
        self.last_prompt = prompt
        return (Message(role="system", content=READER_SYSTEM),
                Message(role="user", content=prompt))

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        call = None if request.answer_only or not request.tools else self.plan(request.messages)
        if call is not None:
            yield ToolCallChunk(call)
            yield FinishChunk("tool_calls")
            return
        read = ProviderRequest(messages=self.reader_messages(request.messages),
                               max_tokens=min(request.max_tokens or self.max_tokens,
                                              self.max_tokens),
                               temperature=0.0)
        async for ev in self.reader.stream(read, cancel):
            yield ev

    async def aclose(self) -> None:
        await self.reader.aclose()
