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
EVIDENCE_LINES = 8
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


def probe(ws: Workspace, question: str) -> str:
    """Lines of the variables matching the question's rarest matching terms ("" when none)."""
    found: list[tuple[int, str, str, list[tuple[int, str]]]] = []
    for term in question_terms(question):
        for name, v in ws.variables.items():
            hits, total = v.grep(term, GREP_LINES)
            if total:
                found.append((total, term, name, hits))
    if not found:
        return ""
    found.sort(key=lambda f: f[0])
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


def salient(text: str) -> list[str]:
    """Numbers, paths and identifiers in ``text``: what must be quoted exactly."""
    out = [m.strip(".,:;") for m in _SALIENT.findall(text)]
    return [t for t in dict.fromkeys(out) if len(t) >= 2]


def evidence_lines(answer: str, seen: list[str], limit: int = EVIDENCE_LINES) -> list[str]:
    """The lines the delegate saw that hold the answer's salient tokens, verbatim."""
    tokens = salient(answer)
    if not tokens:
        words = {w.lower() for w in _WORD.findall(answer) if w.lower() not in STOPWORDS}
        picked = [ln for ln in seen if len(words & {w.lower() for w in _WORD.findall(ln)}) >= 2]
    else:
        picked = [ln for ln in seen if any(t in ln for t in tokens)]
    return [clip_line(ln) for ln in picked[:limit]]
