"""Questions over a volume that one grep-and-read cannot answer: no shared words, several values,
counts, and chains of references.

On top of the retrieval-first planner (deterministic ctx calls, the model reads a few lines):

- **Bridging words.** A question without an identifier is first expanded by the model into the
  entities and terms it implies (:mod:`app.core.rlm.expand`); the question, all terms together and
  each multi-word term are searched (BM25, plus the dense layer when built) and the best lines are
  fused by reciprocal rank. The terms go to the reader too, as the link between question and text.
- **Every key, every value.** Each identifier in the question is grepped; all whole-token hits are
  read (a key with several values yields them all), and each key's line count is given to the
  reader, so "how many" and "which most often" are answered from counts, not from sampled lines.
- **Absent.** When no line of the volume holds any of the question's identifiers, the answer is
  "not found" without asking the model: nothing it could read would contain the answer.
- **Hops.** When the reader's answer is itself an identifier found in the volume (``a = b``, then
  ``b = 42``), the question is asked again about that identifier, reading only lines not read yet,
  for up to ``max_hops``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, ToolCall
from app.core.context_store.planner import (
    GREP_LINES,
    RetrievalFirstProvider,
    _Step,
    _turn,
    grep_pattern,
    key_terms,
)
from app.core.providers.base import (
    FinishChunk,
    Provider,
    ProviderEvent,
    ProviderRequest,
    TextChunk,
    ToolCallChunk,
)
from app.core.rlm.expand import expand_terms

READER_SYSTEM = (
    "You answer a question using only the excerpt given, which comes from a large document "
    "collection. Reply with the answer only: copy the exact value (number, code, name) from the "
    "excerpt. If several lines give values for what is asked, list all of them. If the question "
    "asks how many or which most often, use the line counts given. If the excerpt does not "
    "contain the answer, reply: not found.")
_GREP_LINE = re.compile(r"^(\d+): [^:\n]*:\d+: (.*)$", re.MULTILINE)
_GREP_TOTAL = re.compile(r"^(\d+)\+? matching line")
_BEST_LINE = re.compile(r"best line (\d+):")
_SLICE_PREFIX = re.compile(r"^\d+: ", re.MULTILINE)
_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])")
RRF_K = 60
MAX_KEYS = 4


class VolumeReader(RetrievalFirstProvider):
    name = "volume-reader"

    def __init__(self, reader: Provider, volume: str, *, expand: bool = True, max_hops: int = 6,
                 max_values: int = 6, **kwargs: int) -> None:
        super().__init__(reader, volume, **kwargs)
        self.expand = expand
        self.max_hops = max_hops
        self.max_values = max_values
        self.expansions: dict[str, list[str]] = {}
        self.hops: list[tuple[str, str]] = []  # (key, the key it led to)
        self._hop_start = 0  # steps before this belong to earlier hops
        self._read_lines: set[int] = set()
        self._old_lines: set[int] = set()  # read in earlier hops: not read again

    # --- the question as it stands after hops --------------------------------------------------

    def current_question(self, question: str) -> str:
        q = question
        for old, new in self.hops:
            q = re.sub(re.escape(old), new, q) if old in q else f"{q} ({old} refers to {new})"
        return q

    def keys(self, question: str) -> list[str]:
        return key_terms(self.current_question(question))[:MAX_KEYS]

    # --- planning ------------------------------------------------------------------------------

    def plan(self, messages: tuple[Message, ...]) -> ToolCall | None:
        question, all_steps = _turn(messages)
        steps = all_steps[self._hop_start:]
        v = self.volume
        keys = self.keys(question)
        slices = [s for s in steps if s.name == "ctx_slice"]
        if keys:
            greps = [s for s in steps if s.name == "ctx_grep"]
            if len(greps) < len(keys):
                return self._call("ctx_grep", volume=v, pattern=keys[len(greps)],
                                  max_lines=GREP_LINES)
            targets, _counts = self.key_targets(steps)
            many = len(targets) > self.max_windows
            limit = self.max_values if many else self.max_windows
            width = 0 if many else self.window
        else:
            searches = [s for s in steps if s.name == "ctx_search"]
            queries = self.queries(question)
            if len(searches) < len(queries):
                return self._call("ctx_search", volume=v, query=queries[len(searches)], k=self.k)
            targets = self.fused_targets(steps)
            limit, width = self.k, self.search_window
        if len(slices) < min(len(targets), limit):
            line = targets[len(slices)]
            self._read_lines.add(line)
            return self._call("ctx_slice", volume=v, line_start=max(1, line - width),
                              line_end=line + width)
        return None

    def queries(self, question: str) -> list[str]:
        terms = self.expansions.get(question, [])
        out = [question]
        if terms:
            out.append(" ".join(terms))
            out += [t for t in terms if len(t.split()) > 1][:2]
        return out

    def key_targets(self, steps: list[_Step]) -> tuple[list[int], dict[str, int]]:
        """Lines holding a key as a whole token (not read in an earlier hop), and each key's
        matching-line count."""
        per_key: list[list[int]] = []
        counts: dict[str, int] = {}
        for s in steps:
            if s.name != "ctx_grep" or s.is_error:
                continue
            key = str(s.arguments.get("pattern", ""))
            whole = re.compile(grep_pattern(key))
            lines = [int(n) for n, text in _GREP_LINE.findall(s.content) if whole.search(text)]
            total = _GREP_TOTAL.match(s.content)
            counts[key] = len(lines) if total is None or len(lines) >= int(total.group(1)) \
                else int(total.group(1))
            per_key.append([n for n in lines if n not in self._old_lines])
        out: list[int] = []
        for i in range(max((len(p) for p in per_key), default=0)):  # interleave the keys
            for p in per_key:
                if i < len(p) and p[i] not in out:
                    out.append(p[i])
        return out, counts

    def fused_targets(self, steps: list[_Step]) -> list[int]:
        score: dict[int, float] = {}
        for s in steps:
            if s.name == "ctx_search" and not s.is_error:
                for rank, line in enumerate(dict.fromkeys(
                        int(x) for x in _BEST_LINE.findall(s.content)), 1):
                    score[line] = score.get(line, 0.0) + 1.0 / (RRF_K + rank)
        return sorted(score, key=lambda n: -score[n])

    # --- reading -------------------------------------------------------------------------------

    def reader_prompt(self, messages: tuple[Message, ...]) -> str:
        question, all_steps = _turn(messages)
        steps = all_steps[self._hop_start:]
        q = self.current_question(question)
        parts = []
        if self.keys(question):
            _targets, counts = self.key_targets(steps)
            if counts:
                ranked = sorted(counts.items(), key=lambda kv: -kv[1])
                parts.append("Line counts: " + "; ".join(
                    f"'{k}' is in {n} line(s)" + (" (the most)" if i == 0 and len(ranked) > 1
                                                   and n > ranked[1][1] else "")
                    for i, (k, n) in enumerate(ranked)))
        terms = self.expansions.get(question)
        if terms:
            parts.append("Terms related to the question: " + "; ".join(terms))
        excerpts = []
        for s in steps:
            if s.name == "ctx_slice" and not s.is_error:
                body = "\n".join(line for line in s.content.splitlines()
                                 if not line.startswith(("--- ", "[capped", "[end of")))
                excerpts.append(_SLICE_PREFIX.sub("", body).strip("\n"))
        excerpt = "\n...\n".join(excerpts) if excerpts else "(nothing relevant was found)"
        return "\n".join([*parts, f"Excerpt:\n{excerpt}", "", f"Question: {q}"])

    def assigned_to(self, steps: list[_Step], key: str, question: str) -> str | None:
        """The identifier ``key`` is set to on a line read (``key = other``, ``key: other``,
        ``key -> other``, ``key is other``), when that is another identifier: a reference to
        follow before any model reads."""
        if len(self.hops) >= self.max_hops:
            return None
        seen = {k for hop in self.hops for k in hop} | set(self.keys(question))
        assign = re.compile(grep_pattern(key) + r"\s*(?::=|=|->|:|\bis\b)\s*(.+)")
        for s in steps:
            if s.name != "ctx_grep" or s.arguments.get("pattern") != key:
                continue
            for _n, text in _GREP_LINE.findall(s.content):
                m = assign.search(text)
                if m is None or _NUMBER.match(m.group(1).strip()):
                    continue
                for cand in key_terms(m.group(1)):
                    if any(c.isalpha() for c in cand) and any(c.isdigit() for c in cand) \
                            and cand not in seen:
                        return cand
        return None

    def hop_target(self, answer: str, question: str) -> str | None:
        """An identifier the answer names that the question should now be asked about."""
        if len(self.hops) >= self.max_hops or _NUMBER.search(answer):
            return None
        seen = {k for hop in self.hops for k in hop} | set(self.keys(question))
        for cand in key_terms(answer):
            if any(c.isalpha() for c in cand) and cand not in seen:
                return cand
        return None

    def _hop(self, key: str, to: str, at_step: int) -> None:
        self.hops.append((key, to))
        self._hop_start = at_step
        self._old_lines |= self._read_lines

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        messages = request.messages
        question, all_steps = _turn(messages)
        if not request.answer_only and request.tools:
            if self.expand and not self.keys(question) and question not in self.expansions:
                self.expansions[question] = await expand_terms(self.reader, question, cancel)
            call = self.plan(messages)
            if call is not None:
                yield ToolCallChunk(call)
                yield FinishChunk("tool_calls")
                return
        keys = self.keys(question)
        steps = all_steps[self._hop_start:]
        if keys and not self.key_targets(steps)[0]:
            if self.hops:  # the chain ends at a name the volume does not define
                yield TextChunk(self.hops[-1][1])
            else:
                yield TextChunk(f"not found: no line of '{self.volume}' contains "
                                + " or ".join(repr(k) for k in keys))
            yield FinishChunk("stop")
            return
        chosen = extreme_answer(question, self.key_targets(steps)[1]) if len(keys) > 1 else ""
        if chosen:  # a choice by count is computed from the counts, not read by the model
            yield TextChunk(chosen)
            yield FinishChunk("stop")
            return
        if keys and request.tools and not request.answer_only:
            ref = self.assigned_to(steps, keys[0], question)
            if ref is not None:
                self._hop(keys[0], ref, len(all_steps))
                yield ToolCallChunk(self._call("ctx_grep", volume=self.volume, pattern=ref,
                                               max_lines=GREP_LINES))
                yield FinishChunk("tool_calls")
                return
        prompt = self.reader_prompt(messages)
        self.last_prompt = prompt
        read = ProviderRequest(messages=(Message(role="system", content=READER_SYSTEM),
                                         Message(role="user", content=prompt)),
                               max_tokens=min(request.max_tokens or self.max_tokens,
                                              self.max_tokens), temperature=0.0)
        answer = "".join([c.text async for c in self.reader.stream(read, cancel)
                          if isinstance(c, TextChunk)]).strip()
        hop = self.hop_target(answer, question) if keys and not cancel.cancelled else None
        if hop is not None and request.tools and not request.answer_only:
            self._hop(keys[0], hop, len(all_steps))
            yield ToolCallChunk(self._call("ctx_grep", volume=self.volume, pattern=hop,
                                           max_lines=GREP_LINES))
            yield FinishChunk("tool_calls")
            return
        yield TextChunk(answer)
        yield FinishChunk("stop")


_MOST = re.compile(r"\b(most|more|highest|largest|greatest)\b", re.IGNORECASE)
_LEAST = re.compile(r"\b(least|fewest|fewer|less|lowest|smallest)\b", re.IGNORECASE)


def extreme_answer(question: str, counts: dict[str, int]) -> str:
    """The answer to "which of A, B and C occurs most (least) often" from each key's line
    count, when the question asks for one extreme and one key holds it alone ("" otherwise).
    The 0.5B reader, given the counts with the largest marked, still listed all three keys."""
    most, least = bool(_MOST.search(question)), bool(_LEAST.search(question))
    if most == least or len(counts) < 2 or not re.match(r"\s*(which|what)\b", question, re.I):
        return ""
    ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=most)
    if ranked[0][1] == ranked[1][1]:
        return ""  # a tie: the reader says so
    key, n = ranked[0]
    return f"{key}: it is in {n} lines, {'more' if most else 'fewer'} than any other."
