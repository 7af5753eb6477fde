"""The grounding check: concrete values in an answer must come from what the turn saw.

A small model states values it never read ("TIMEOUT is 10", "there are 7 rows", "the class is
`Model`"). Before an answer is shown, its concrete claims (numbers, code identifiers, file paths,
quoted strings) are looked up in the evidence: the request, the workspace map the model was shown
and every tool result and call of the turn. A claim found nowhere is unsupported; the loop then
asks once for an extractive answer, and if that fails too, says it could not find the answer.

Claims are extracted by shape, never by topic, so the check holds for any request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# 1,234.5 / -3 / 0.4.2 / 14:30 / 2024-03-18 (a date or version is one claim)
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:[.:\-]\d+)*(?![\w])")
# snake_case, CamelCase / mixedCase, dotted.names, call(), or a path with an extension
_IDENT = re.compile(
    r"(?<![\w./-])(?:[A-Za-z_][\w-]*/)*[A-Za-z_][\w-]*\.[A-Za-z]\w{0,6}(?![\w/])"  # path.ext
    r"|(?<![\w.])[A-Za-z]\w*_\w+(?![\w])"  # snake_case
    r"|(?<![\w.])[a-z]+[A-Z]\w*(?![\w])"  # mixedCase
    r"|(?<![\w.])[A-Z][a-z0-9]+[A-Z]\w*(?![\w])"  # CamelCase
)
_BACKTICK = re.compile(r"`([^`\n]{1,80})`")
# Two or more capitalised words in a row: a name ("Dana Whitfield", "United States").
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)+\b")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{2,60})[\"”]")
# An e-mail address is one value, checked as a whole on a line about the topic (not as the
# domain name "example.org", which every address of a file shares).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Markdown list numbering and headings are structure, not claims.
_LIST_MARK = re.compile(r"^\s*\d+[.)]\s", re.MULTILINE)


@dataclass(frozen=True)
class Claim:
    text: str
    kind: str  # "number" | "identifier" | "quote" | "name"


def _norm_number(raw: str) -> str:
    return raw.replace(",", "").rstrip(".:-")


def extract_claims(answer: str) -> list[Claim]:
    """The concrete values an answer states, in order, without duplicates."""
    text = _LIST_MARK.sub(" ", answer)
    out: dict[str, Claim] = {}
    for m in _EMAIL.finditer(text):
        out.setdefault(m.group(0), Claim(m.group(0), "quote"))
    text = _EMAIL.sub(" ", text)
    for m in _BACKTICK.finditer(text):
        inner = m.group(1).strip()
        # A backticked command or code line is checked by its parts, a name as a whole.
        # A one-letter name (`s`, `i`) is a variable of the code shown, not a value.
        if re.fullmatch(r"[\w./-]{2,}(\(\))?", inner):
            out.setdefault(inner.removesuffix("()"), Claim(inner.removesuffix("()"), "identifier"))
    for m in _QUOTED.finditer(text):
        # A quoted single token is a value ("hunter2"); quoted prose is often a paraphrase.
        inner = m.group(1).strip().rstrip(".,;:!?")
        if inner and " " not in inner:
            out.setdefault(inner, Claim(inner, "quote"))
    for m in _IDENT.finditer(text):
        out.setdefault(m.group(0), Claim(m.group(0), "identifier"))
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if words[0] in ("The", "A", "An", "In", "It", "I"):  # a sentence start, not the name
            words = words[1:]
        if len(words) >= 2:
            name = " ".join(words)
            out.setdefault(name, Claim(name, "name"))
    for m in _NUMBER.finditer(text):
        raw = m.group(0)
        if re.fullmatch(r"-?[\d,]+", raw) and "," in raw and not re.fullmatch(
                r"-?\d{1,3}(,\d{3})+", raw):
            for part in raw.split(","):  # "2,3,5" is a list of numbers
                if part:
                    out.setdefault(part, Claim(part, "number"))
            continue
        num = _norm_number(raw)
        if num:
            out.setdefault(num, Claim(num, "number"))
    return list(out.values())


# Function words and the generic words of questions: what is left of a question is its topic.
_STOPWORD_TEXT = """
a about above according after again all also am an and any are as at be been before being both but
by can could did do does doing done each else every few file files find for from get give got had
has have having her here hers him his how i if in into is it its just let list me mine more most much
my no nor not now number numbers of on once one only or other our out over own please same say says
see set she should show so some such tell than that the their them then there these they this those
through to too under until up use used value values very was we were what when where which while who
whom whose why will with would yes you your
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def topic_words(question: str) -> set[str]:
    """The content words of a question (file paths and function words left out)."""
    words = set()
    for token in re.findall(r"[\w./@-]+", question.lower()):
        if "/" in token or re.search(r"\.[a-z]{1,5}$", token):
            continue  # a path says where to look, not what about
        for w in re.findall(r"[a-z][a-z0-9]*", token):
            if len(w) >= 3 and w not in STOPWORDS:
                words.add(w[:-1] if len(w) > 4 and w.endswith("s") else w)
    return words


def contradicted_by(answer: str, notes: Iterable[str], question: str) -> str:
    """The first of ``notes`` (counts the harness computed from the files: a table's rows, a
    checklist's open items) that is about the question (two or more of its content words, paths
    aside) and holds none of the numbers ``answer`` states ("" if none). A program can count
    wrong where a note counted right: the 1.5B model's program subtracted the header twice and
    it answered "5 data rows" beside "[data/items.csv: a header line and 6 data rows]"."""
    stated = {c.text for c in extract_claims(answer) if c.kind == "number"}
    topic = topic_words(question)
    if not stated or len(topic) < 2:
        return ""
    for note in notes:
        bare = _PATH_TOKEN.sub(" ", note).lower()
        numbers = _numbers_in(bare)
        if numbers and sum(1 for w in topic if w in bare) >= 2 and not stated & numbers:
            return note
    return ""


def topic_lines(texts: Iterable[str], question: str, limit: int = 3) -> list[str]:
    """The lines of ``texts`` that mention most of the question's content words (at least two),
    best first: what a model that said the request back is pointed to ("inventory/report.py:3:
    from inventory.config import CURRENCY" for "Which module imports CURRENCY from the
    config?")."""
    topic = topic_words(question)
    if len(topic) < 2:
        return []
    scored: dict[str, int] = {}
    for text in texts:
        for line in text.splitlines():
            line = line.strip()
            low = line.lower()
            hits = sum(1 for w in topic if w in low)
            if hits >= 2 and len(line) <= 200:
                scored[line] = max(hits, scored.get(line, 0))
    return sorted(scored, key=lambda ln: -scored[ln])[:limit]


def _numbers_in(text: str) -> set[str]:
    out: set[str] = set()
    for m in re.finditer(r"-?\d[\d,]*(?:[.:\-]\d+)*", text):
        raw = m.group(0)
        out.add(_norm_number(raw))
        for piece in re.split(r"[,:\-]", raw):  # 18,500 → 18500; 2024-03-18 → 2024, 03, 18
            if piece:
                out.add(piece.lstrip("0") or "0")
                out.add(piece)
    return out


def _holds(text: str, claim: Claim) -> bool:
    if claim.kind == "number":
        numbers = _numbers_in(text)
        value = claim.text
        if value in numbers or value.lstrip("-") in numbers:
            return True
        try:  # 225 supports 225.00 and the other way round
            f = float(value)
        except ValueError:
            return False
        return any(_same_float(f, n) for n in numbers)
    hay = text.lower()
    needle = claim.text.lower().strip()
    if has_word(hay, needle):
        return True
    # A path claim is supported by its file name alone ("report.py" for inventory/report.py).
    return "/" in needle and has_word(hay, needle.rsplit("/", 1)[-1])


def has_word(hay: str, needle: str) -> bool:
    """``needle`` in ``hay`` as a whole word: a request that asks which function "divides" does
    not name a function `divide`, nor does `test_add_two` show that `test_add` exists."""
    if not needle:
        return False
    return re.search(rf"(?<![a-z0-9_]){re.escape(needle)}(?![a-z0-9_])", hay) is not None


_PATH_TOKEN = re.compile(r"[\w.@-]*(?:/[\w.@-]+)+|[\w-]+\.[A-Za-z]{1,5}\b")


class Evidence:
    """Everything the turn saw, searchable for claims.

    ``request`` text and ``computed`` output (a program or command the turn ran) support a value
    wherever it appears. In ``file`` text (reads, listings, the map) a number or quoted value is
    supported only on a line that, with its neighbours, mentions the question's topic: a 6 read
    somewhere in a CSV does not make "6 rows" true, nor "data/stock.db" a password, nor "Priya
    Raman" Lena Fischer's phone number. A word of the file's own name is about every line of it,
    so it picks none ("Pancakes (serves 4)" in recipes/pancakes.txt is no amount of sugar).
    """

    def __init__(self, texts: Iterable[str] = (), *, question: str = "") -> None:
        self._parts: list[tuple[str, str, str, int]] = []
        self.topic = topic_words(question)
        if question:
            self.add(question, "request")
        for t in texts:
            self.add(t)

    def add(self, text: str, kind: str = "file", *, source: str = "", window: int = 1) -> None:
        """``source``: the file ``text`` was read from, if one. ``window``: the neighbouring
        lines that count as the context of a line (0 where each line stands alone: a table's
        rows, whose header names columns and not the subject; grep hits)."""
        if text:
            self._parts.append((kind, text, source, window))

    @property
    def text(self) -> str:
        return "\n".join(t for _, t, _, _ in self._parts)

    def supports(self, claim: Claim) -> bool:
        for kind, text, source, window in self._parts:
            if kind != "file":
                if _holds(text, claim):
                    return True
                continue
            topic = self.topic - topic_words(re.sub(r"[/._-]", " ", source)) if source \
                else self.topic
            if claim.kind == "identifier" or not topic:
                if _holds(text, claim):
                    return True
                continue
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if _holds(line, claim):
                    # Paths say where, not what about: "[data/items.csv: … 6 data rows]" is
                    # not about items below 12.
                    near = _PATH_TOKEN.sub(" ", " ".join(
                        lines[max(0, i - window):i + window + 1])).lower()
                    if any(w in near for w in topic):
                        return True
        return False

    def unsupported(self, answer: str) -> list[Claim]:
        return [c for c in extract_claims(answer) if not self.supports(c)]


def without_literals(output: str, source: str) -> str:
    """``output`` minus the numbers that ``source`` (the program or command that printed it)
    spells out itself: echoing a guess is not computing it."""
    literals = {_norm_number(m.group(0)) for m in _NUMBER.finditer(source)}
    if not literals:
        return output
    return _NUMBER.sub(lambda m: m.group(0) if _norm_number(m.group(0)) not in literals else "…",
                       output)


def _same_float(f: float, raw: str) -> bool:
    try:
        return abs(float(raw) - f) < 1e-9
    except ValueError:
        return False


def retry_instruction(draft: str, missing: list[Claim]) -> str:
    """The one extractive retry: what was wrong, and the honest ways out."""
    values = ", ".join(f"'{c.text}'" for c in missing[:5])
    if all(c.kind == "number" for c in missing):
        how = ("If it has to be counted or added up, call the python tool with a short program "
               "that reads the file, computes it and prints it; then quote what it printed. If "
               "a line states it, quote that line.")
    else:
        how = "Quote the line that gives the answer, or read the file that holds it."
    return (f"Check your answer before I show it. It says {values}, which appears in no file or "
            f"tool result of this request. {how} If the workspace does not contain the answer, "
            "say that you could not find it.")


def not_found_answer(read: list[str], lines: list[str] | None = None) -> str:
    """The honest answer when no answer could be checked; with ``lines`` (what the turn read
    that mentions the question's words) shown as read, so the user sees what there is instead
    of a dead end: "which module imports CURRENCY" ends with the grep line that says it."""
    where = f" (I read {', '.join(read[:4])})" if read else ""
    if lines:
        shown = "\n".join(f"    {ln}" for ln in lines)
        return (f"I could not find a checked answer in the workspace{where}, so I won't guess. "
                f"These lines I read mention it:\n{shown}")
    return (f"I could not find that in the workspace{where}, so I won't guess. If you know "
            "which file holds it, name it and I'll look there.")
