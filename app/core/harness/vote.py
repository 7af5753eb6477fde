"""Voting on one model step: sample it again until one decision is ahead by k.

A small model's greedy choice is sometimes a fluke: the wrong tool, the wrong file, a number it
made up. Sampling the same step a few more times (the prompt is cached, so a sample costs only its
output tokens) and taking the decision that gets ahead of every other by ``k`` votes is MAKER's
first-to-ahead-by-k, and the tally is the process engine's own (:class:`~app.core.process.vote.
Tally`). Votes are counted on a canonical form of the decision: the tool and its short arguments
(a long payload such as a file's content is the greedy sample's), or the concrete values of a short
answer. Malformed samples are red-flagged (not counted). A long answer is not voted on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import ToolCall
from app.core.harness.claims import extract_claims
from app.core.process.vote import Tally
from app.core.providers.base import (
    FinishChunk,
    NoticeChunk,
    Provider,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.wire.tool_calls import parse_tool_calls

LONG_VALUE = 80  # string arguments longer than this are payload, not part of the decision


@dataclass
class Sample:
    text: str = ""
    reasoning: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    notices: list[NoticeChunk] = field(default_factory=list)
    finish: str = ""  # the provider's finish reason ("length": cut by the token limit)

    def chunks(self) -> list[ProviderEvent]:
        """The sample replayed as provider events, for the loop to consume as a normal reply."""
        out: list[ProviderEvent] = [*self.notices]
        if self.reasoning:
            out.append(ReasoningChunk(self.reasoning))
        if self.text:
            out.append(TextChunk(self.text))
        out += [ToolCallChunk(c) for c in self.calls]
        out.append(UsageChunk(self.prompt_tokens, self.completion_tokens))
        if self.finish:
            out.append(FinishChunk(self.finish))
        return out


@dataclass
class Decision:
    sample: Sample
    votes: str = ""  # "3/3": winner's votes / counted votes ("" = no vote held)
    decided: bool = True
    samples: int = 1
    flagged: int = 0


async def collect(provider: Provider, request: ProviderRequest, cancel: CancelToken,
                  known: set[str]) -> Sample:
    """Run one request to the end and keep everything it produced."""
    s = Sample()
    text: list[str] = []
    async for chunk in provider.stream(request, cancel):
        if isinstance(chunk, TextChunk):
            text.append(chunk.text)
        elif isinstance(chunk, ReasoningChunk):
            s.reasoning += chunk.text
        elif isinstance(chunk, ToolCallChunk):
            s.calls.append(chunk.call)
        elif isinstance(chunk, UsageChunk):
            s.prompt_tokens += chunk.prompt_tokens
            s.completion_tokens += chunk.completion_tokens
        elif isinstance(chunk, NoticeChunk):
            if chunk.restart:
                text.clear()
                s.calls.clear()
            s.notices.append(chunk)
        elif isinstance(chunk, FinishChunk):
            s.finish = chunk.reason
        if cancel.cancelled:
            break
    s.text = "".join(text)
    if not s.calls and request.tools:
        # A sample cut by the token limit is never completed by guessing (json-repair).
        parsed = parse_tool_calls(s.text, known, cut=s.finish == "length")
        if parsed.calls:
            s.calls, s.text = list(parsed.calls), parsed.text
    return s


def _norm_value(value: object) -> object:
    if isinstance(value, str):
        v = "\n".join(line.rstrip() for line in value.strip().splitlines())
        return "<payload>" if len(v) > LONG_VALUE else v.removeprefix("./")
    return value


def canonical(sample: Sample, request_text: str) -> str | None:
    """The decision a sample makes, as a vote key; None for a red-flagged sample."""
    if sample.calls:
        parts = []
        for c in sample.calls:
            args = {k: _norm_value(v) for k, v in sorted(c.arguments.items())}
            parts.append(c.name + json.dumps(args, sort_keys=True, default=str))
        return "call:" + "|".join(parts)
    text = sample.text.strip()
    if not text or text.startswith("{"):  # empty, or a call that did not parse
        return None
    asked = {c.text.lower() for c in extract_claims(request_text)}
    values = sorted({c.text.lower() for c in extract_claims(text)} - asked)
    if values:
        return "values:" + "|".join(values)
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "text:" + " ".join(words[:40])


async def decide(provider: Provider, request: ProviderRequest, cancel: CancelToken, *,
                 k: int, max_samples: int, temperature: float, answer_tokens: int,
                 known: set[str], request_text: str) -> Decision:
    """The greedy sample, then more samples until one decision is ahead by ``k``."""
    first = await collect(provider, request, cancel, known)
    if cancel.cancelled or k < 2:
        return Decision(first)
    if not first.calls and first.completion_tokens > answer_tokens:
        return Decision(first)  # a long answer: nothing short to vote on
    tally = Tally(k)
    by_key: dict[str, Sample] = {}
    key = canonical(first, request_text)
    flagged = 0 if key is not None else 1
    if key is not None:
        by_key[key] = first
        tally.add(key)
    cap = max(answer_tokens, 2 * first.completion_tokens + 16)
    n = 1
    while tally.winner is None and n < max_samples and not cancel.cancelled:
        extra = dict(request.extra)
        extra["seed"] = 1000 + n
        sample = await collect(provider, replace(
            request, temperature=temperature, max_tokens=min(request.max_tokens or cap, cap),
            extra=extra), cancel, known)
        n += 1
        key = canonical(sample, request_text)
        if key is None:
            flagged += 1
            continue
        by_key.setdefault(key, sample)
        tally.add(key)
    if tally.winner is not None:
        win = tally.winner
    elif tally.counts:  # undecided within the cap: the leader, marked as undecided
        win = max(tally.counts, key=lambda c: tally.counts[c])
    else:
        return Decision(first, "", False, n, flagged)
    chosen = first if canonical(first, request_text) == win else by_key[win]
    votes = f"{tally.counts[win]}/{tally.total}"
    return Decision(chosen, votes, tally.winner is not None, n, flagged)
