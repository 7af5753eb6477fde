"""The deterministic parts around the delegate's rounds: the first grep, and the evidence lines.

Round 0 greps every variable for the question's identifiers and content words and keeps the
rarest that match, so the first model round already sees where the answer probably is. After the
last round the lines the delegate saw that carry the finding's numbers, paths and identifiers are
quoted verbatim under it: the main model gets them exactly as written, whatever the delegate's
paraphrase.
"""

from __future__ import annotations

import re

from app.core.context_store.index import STOPWORDS
from app.core.context_store.planner import key_terms
from app.core.rlm.variables import GREP_CHARS, GREP_LINES, Workspace, clip_line

PROBE_TERMS = 3
EVIDENCE_LINES = 6
RANKED_LINES = 4
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]{2,}")
_SALIENT = re.compile(r"[\w./:@+-]*\d[\w./:@+-]*|[\w.-]+/[\w./-]+|\w+[_.]\w[\w.]*")
_SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    """A crude stem so ``failed``/``failing`` find ``fail``; only for words long enough."""
    for suffix in _SUFFIXES:
        if len(word) > 5 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def question_terms(question: str) -> list[str]:
    """Identifiers first (exact), then the content words (stemmed), without repeats."""
    terms = key_terms(question)
    for w in _WORD.findall(question):
        low = w.lower()
        if low not in STOPWORDS and len(low) >= 3:
            terms.append(stem(low))
    return list(dict.fromkeys(terms))


def _term_hits(ws: Workspace, question: str) -> list[tuple[int, str, str, list[tuple[int, str]]]]:
    """(total, term, variable, first hits) for every question term that matches, rarest first."""
    found: list[tuple[int, str, str, list[tuple[int, str]]]] = []
    for term in question_terms(question):
        for name, v in ws.variables.items():
            hits, total = v.grep(term, GREP_LINES)
            if total:
                found.append((total, term, name, hits))
    found.sort(key=lambda f: f[0])
    return found


def probe(ws: Workspace, question: str) -> str:
    """Lines of the variables matching the question's rarest matching terms ("" when none)."""
    found = _term_hits(ws, question)
    if not found:
        return ""
    chosen = found[:PROBE_TERMS]
    head = "probe: " + ", ".join(f"{t!r} in {n}: {total} line(s)" for total, t, n, _ in chosen)
    rows = [head]
    used = len(head)
    seen: set[tuple[str, int]] = set()
    for _total, _term, name, hits in chosen:
        for line_no, text in hits:
            if (name, line_no) in seen:
                continue
            seen.add((name, line_no))
            row = f"{name}:{line_no}: {clip_line(text)}"
            if used + len(row) > GREP_CHARS or len(rows) > GREP_LINES:
                break
            rows.append(row)
            used += len(row) + 1
    return "\n".join(rows)


def ranked_lines(ws: Workspace, question: str, limit: int = RANKED_LINES) -> list[str]:
    """The lines that match the question best, as "N: text": each matching term weighs the
    inverse of how many lines it matches, so "fail" (3 lines) outweighs "test" (every line of a
    test run) and a customer id its table's header. Worked out without the model, so the main
    model sees the right line even when the delegate's paraphrase goes wrong (asked which test
    failed, the 0.5B delegate answered with a run of PASSED lines)."""
    scores: dict[tuple[str, int], float] = {}
    texts: dict[tuple[str, int], str] = {}
    for total, _term, name, hits in _term_hits(ws, question):
        for line_no, text in hits:
            key = (name, line_no)
            scores[key] = scores.get(key, 0.0) + 1.0 / total
            texts[key] = text
    best = sorted(scores, key=lambda k: (-scores[k], k[1]))[:limit]
    if best:  # a line that only shares the common words is no match
        top = scores[best[0]]
        best = [k for k in best if scores[k] >= top / 4]
    many = len(ws.variables) > 1
    return [f"{name + ':' if many else ''}{no}: {clip_line(texts[(name, no)])}"
            for name, no in best]


_VAR_PREFIX = re.compile(r"^[A-Za-z_]\w*:(?=\d+:)")


def without_variable(line: str) -> str:
    """"output_0:48: text" → "48: text" (the main model never sees the variable's name)."""
    return _VAR_PREFIX.sub("", line)


# Numbers as written, with thousands separators: "30,013" is one value, not 30 and 013.
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,]|\.\d)|"
                     r"(?<![\w.,])\d+(?:\.\d+)?(?![\w,]|\.\d)")
_PASTED = re.compile(r"(?:^|\s)\d+: ")


# What the micro-tools say when they find nothing (app/core/rlm/variables.py): never an answer.
_TOOL_MESSAGE = re.compile(r"No matching lines for |No key '|' has only [\d,]+ chars")


def answer_problem(answer: str, seen: list[str], question: str) -> str:
    """Why the delegate's answer cannot go to the main model ("" when it can): lines pasted
    together instead of an answer, a tool's error said back, or a number that no line it read
    holds (the 0.5B delegate gave a CSV's size, "30,013", as a customer's amount)."""
    text = answer.strip()
    copied = {body[:30] for body in (without_variable(ln).split(": ", 1)[-1].strip() for ln in seen)
              if len(body) >= 20 and body[:30] in text}
    if len(_PASTED.findall(text)) >= 2 or len(copied) >= 3:
        return "it pasted lines together instead of answering"
    if text.startswith("Error") or _TOOL_MESSAGE.search(text):
        # Anywhere in it: "The failing test: No matching lines for '3 line(s)' in 'output_0'."
        # went to the main model, which answered with it.
        return "it repeated a tool's message"
    read = "\n".join(seen) + "\n" + question
    for number in _NUMBER.findall(text):
        # As a whole value: "1296.96" in the row "Oslo,1296.96", not in "1,296.96" nor "296.9".
        if not re.search(r"(?<![\d.])(?<!\d,)" + re.escape(number) + r"(?!\d|\.\d|,\d{3}(?!\d))",
                         read):
            return f"no line it read holds {number}"
    return ""


def salient(text: str) -> list[str]:
    """Numbers, paths and identifiers in ``text``: what must be quoted exactly."""
    out = [m.strip(".,:;") for m in _SALIENT.findall(text)]
    return [t for t in dict.fromkeys(out) if len(t) >= 2]


def evidence_lines(answer: str, seen: list[str], limit: int = EVIDENCE_LINES,
                   ranked: list[str] | None = None) -> list[str]:
    """The lines that best match the question (``ranked``), then those the delegate saw that
    hold the answer's salient tokens, verbatim and each once."""
    tokens = salient(answer)
    if not tokens:
        words = {w.lower() for w in _WORD.findall(answer) if w.lower() not in STOPWORDS}
        picked = [ln for ln in seen if len(words & {w.lower() for w in _WORD.findall(ln)}) >= 2]
    else:
        picked = [ln for ln in seen if any(t in ln for t in tokens)]
    out: dict[str, None] = {}
    for line in [*(ranked or []), *picked]:
        out.setdefault(clip_line(without_variable(line)), None)
    return list(out)[:limit]
