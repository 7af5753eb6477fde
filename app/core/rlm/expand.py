"""Bridging words: the local model names what a question implies before anything is searched.

Word search cannot connect "the person residing in Cairo" to a line about the Pyramids of Giza:
they share no word. The model can, so it is asked once, in a short answer-only call, for the
entities and terms a text answering the question would contain; each becomes a search whose ranks
are fused with the question's own.
"""

from __future__ import annotations

import re

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.providers.base import Provider, ProviderRequest, TextChunk

EXPAND_SYSTEM = (
    "You help a search engine. Do not answer the question. For each name, place or key word in "
    "it, list what a text about it would mention instead: landmarks, parts, synonyms. Reply "
    "with one line: 'word: term; term; term', then the next word.")
EXAMPLES = (
    ("Cairo", "Cairo: Pyramids of Giza; Sphinx; Nile; Tahrir Square; Egyptian Museum"),
    ("Which service had an outage last night?",
     "outage: unavailable; down; 503; timeout; incident. service: api; worker; server"),
    ("Ada Lovelace, Analytical Engine",
     "Ada Lovelace: Charles Babbage; first program; Bernoulli numbers. Analytical Engine: "
     "mechanical computer; punched cards"),
)
MAX_TERMS = 8


def parse_terms(text: str, question: str) -> list[str]:
    """Terms from the model's line: split on ; , or newlines, trimmed, without the question's own
    words and repeats."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    out: list[str] = []
    for raw in re.split(r"[;\n,]|\.\s|:", text):
        term = raw.strip(" .:-*\"'`[]()").strip()
        words = re.findall(r"\w+", term.lower())
        if not term or len(term) > 60 or not words or all(w in asked for w in words) \
                or all(w.isdigit() for w in words):  # a number never bridges to other words
            continue
        if term.lower() not in (t.lower() for t in out):
            out.append(term)
    return out[:MAX_TERMS]


def entities(question: str) -> list[str]:
    """Capitalised words and runs of them after the first word: the names a question turns on."""
    words = question.rstrip("?!. ").split()
    out: list[str] = []
    run: list[str] = []
    for w in [*words[1:], ""]:
        clean = w.strip(",;:'\"()")
        if clean[:1].isupper():
            run.append(clean)
        elif run:
            out.append(" ".join(run))
            run = []
    return out


async def expand_terms(provider: Provider, question: str,
                       cancel: CancelToken | None = None, *, max_tokens: int = 40) -> list[str]:
    """Bridging terms for ``question``: for each name in it, what a text about that name would
    mention; for a question without names, words a text answering it would use."""
    subjects = entities(question)
    topic = ", ".join(subjects) if subjects else question
    messages = [Message(role="system", content=EXPAND_SYSTEM)]
    for q, a in EXAMPLES:
        messages += [Message(role="user", content=q), Message(role="assistant", content=a)]
    messages.append(Message(role="user", content=topic if subjects else question))
    request = ProviderRequest(messages=tuple(messages), max_tokens=max_tokens, temperature=0.0,
                              answer_only=True)
    parts: list[str] = []
    async for chunk in provider.stream(request, cancel or CancelToken()):
        if isinstance(chunk, TextChunk):
            parts.append(chunk.text)
    return parse_terms("".join(parts), question)
