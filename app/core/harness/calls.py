"""Small helpers of the harness: how a call is named and keyed, paths in requests, an echoed
request, a tool spec with its ``path`` limited to what exists."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from app.core.agent.messages import ToolCall
from app.core.harness.claims import STOPWORDS, extract_claims, topic_words
from app.core.providers.base import ToolSpec

ECHO_RETRY = ("You repeated my request instead of answering it. Answer it now, using the files "
              "and tool results above; if the answer is not there, say that you could not find it.")


# The honest answer the retries ask for ("say that you could not find it") is on topic.
_NOT_FOUND = re.compile(r"\b(?:could ?n[o']t|can ?n[o']t|cannot|did ?n[o']t|unable to) "
                        r"(?:find|locate|see)|\bnot (?:found|there|in the)\b", re.IGNORECASE)


def echoes(answer: str, request: str) -> bool:
    """Whether ``answer`` is the request said back (small models do that when unsure): it adds
    no word the request did not have. "TIMEOUT in config.py is 37" restates the question too, but
    it adds the answer. Where the request asks to be told something, a word the request had in
    another form adds nothing either: asked "tell me which test fails", the 0.5B model answered
    "The tests in tests/test_calc.py failed." ("Yes"/"not" answer a yes-no question, so they
    count as added.)"""
    a = re.findall(r"\w+", answer.lower())
    r = set(re.findall(r"\w+", request.lower()))
    if len(a) < 3 or not r or _NOT_FOUND.search(answer):
        return False
    added = set(a) - r - (STOPWORDS - _POLARITY)
    if not added:
        return True
    if not asks_to_be_told(request):
        return False  # "I appended the line" confirms an order in the order's words
    stems = {_stem(w) for w in r}
    return all(_stem(w) in stems for w in added)


_POLARITY = frozenset({"yes", "no", "not", "none", "never", "nothing"})


def _stem(word: str) -> str:
    """The word without an inflection ending ("fails", "failed", "failing" → "fail")."""
    for end in ("ing", "ed", "es", "s"):
        if len(word) - len(end) >= 3 and word.endswith(end):
            return word[: -len(end)]
    return word


_TELL_ME = re.compile(r"\b(?:tell|show) me (?:which|what|who|whom|whose|where|when|why|how|"
                      r"whether|if)\b", re.IGNORECASE)


def asks_to_be_told(request: str) -> bool:
    """Whether the request asks for information: a question, or an order that ends in one
    ("Run the tests and tell me which test fails.")."""
    return is_question(request) or _TELL_ME.search(request) is not None


# The first words of a question that asks to be told something. "Can you add …?" and "Could
# you …?" are requests for an action, so the modal verbs are not here.
_QUESTION_WORDS = frozenset({"what", "which", "who", "whom", "whose", "where", "when", "why",
                             "how", "is", "are", "does", "do", "did", "was", "were", "has",
                             "have"})


_PREPOSITIONS = frozenset({"according", "in", "inside", "within", "from", "for", "per", "based",
                           "on", "at", "by", "using", "given", "after", "before", "looking"})


def is_question(request: str) -> bool:
    """Whether ``request`` is one question ("Which function in calc.py divides two numbers?"):
    it starts with a question word and ends with "?". Decided by the sentence's form, so it holds
    for any topic."""
    text = request.strip()
    if not text.endswith("?") or text.count("?") != 1:
        return False
    first = re.match(r"[A-Za-z]+", text)
    if first is not None and first.group(0).lower() in _QUESTION_WORDS:
        return True
    # Or after a prepositional phrase that says where to look: "According to journal.txt, how
    # many kilometres …?", "In config.py, what is TIMEOUT?" ("Add eggs, is that fine?" is an
    # order).
    lead, _, rest = text.partition(",")
    word = re.match(r"[A-Za-z]+", lead)
    after = re.match(r"\s*([A-Za-z]+)", rest)
    return (word is not None and word.group(0).lower() in _PREPOSITIONS and after is not None
            and after.group(1).lower() in _QUESTION_WORDS)


# A name written as code in a request: snake_case, CONSTANT_CASE, CamelCase, mixedCase.
_CODE_NAME = re.compile(r"(?<![\w./-])(?:[A-Za-z]\w*_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*)"
                        r"(?![\w/]|\.\w)")


def code_names(request: str) -> list[str]:
    """The code names a request uses outside backticks (code in backticks is the user's own)."""
    plain = re.sub(r"`[^`]*`", " ", request)
    return list(dict.fromkeys(m.group(0) for m in _CODE_NAME.finditer(plain)))


OFF_TOPIC_RETRY = ("Your answer does not answer my request. Answer it now, using the files and "
                   "tool results above; if the answer is not there, say that you could not find "
                   "it.")


def off_topic(answer: str, request: str, results: list[str]) -> bool:
    """Whether a short ``answer`` misses the request entirely: it states no value, shares no
    content word with the request and quotes nothing the turn's tools returned ("To do", a
    heading of the workspace map, for "How many eggs do I need?")."""
    words = re.findall(r"[a-z][a-z0-9]+", answer.lower())
    if not words or len(words) > 12 or extract_claims(answer) or _NOT_FOUND.search(answer):
        return False
    asked = {w[:5] for w in topic_words(request)}
    if any(w[:5] in asked for w in topic_words(answer)):  # "Created." for "Create …"
        return False
    seen = " ".join(results).lower()
    stems = {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words}
    return not any(w in seen for w in stems if w not in STOPWORDS and len(w) >= 3)


_INTERPRETERS = {"python", "python3", "sh", "bash", "node", "ruby", "perl"}


def missing_script(command: str, workspace: Path) -> str:
    """The problem with a command that runs a script file that is not there ("python
    primes.py" before primes.py was written), decided on the parsed command; "" otherwise.
    Only the plain form is judged (an interpreter and a relative path, or ``./script``)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return ""
    if not argv or any(c in command for c in ";|&$`<>()"):
        return ""
    prog = argv[0].rsplit("/", 1)[-1]
    if prog in _INTERPRETERS and len(argv) >= 2 and not argv[1].startswith("-"):
        script = argv[1]
    elif argv[0].startswith("./"):
        script = argv[0]
    else:
        return ""
    if script.startswith(("/", "~")) or (workspace / script).exists():
        return ""
    name = script.removeprefix("./")
    return (f"{name} does not exist yet, so `{command.strip()}` cannot run. If the request asks "
            f"for {name}, create it first with write_file, then run it.")


# A file name with an extension ("primes.py", "data/items.csv") or a dot file (".gitignore").
FILE_NAME_RE = re.compile(r"(?<![\w.])(?:[\w-]+/)*(?:[A-Za-z_][\w-]*\.[A-Za-z][\w]{0,7}"
                           r"|\.[A-Za-z][\w-]+)(?![\w])")


def call_key(call: ToolCall) -> str:
    return call.name + json.dumps(call.arguments, sort_keys=True, default=str)


CONTENT_KIND = {".py": ": complete Python source code", ".json": ": valid JSON",
                ".toml": ": valid TOML"}


def rel_path(raw: Any) -> str:
    if not isinstance(raw, str):
        return ""
    return raw.strip().removeprefix("./").strip("/")


def path_words(text: str) -> list[str]:
    return [w.strip("./").removesuffix("/") for w in re.findall(r"[\w./-]+", text)]


def describe(call: ToolCall) -> str:
    key = next((str(call.arguments[k]) for k in ("path", "command", "url", "query", "code")
                if call.arguments.get(k)), "")
    key = key if len(key) <= 60 else key[:59] + "…"
    return f"`{call.name} {key}`".replace(" `", "`") if key else f"`{call.name}`"


def with_path_enum(spec: ToolSpec, allowed: list[str]) -> ToolSpec:
    params = json.loads(json.dumps(spec.parameters))
    prop = params.setdefault("properties", {}).setdefault("path", {"type": "string"})
    prop["enum"] = list(allowed)
    return ToolSpec(spec.name, spec.description, params)
