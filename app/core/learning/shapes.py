"""What kind of task a request is: its *shape*, the request with its particulars taken out.

"Change TIMEOUT in inventory/config.py to 60" and "Change MAX_RETRIES in inventory/config.py to 9"
are the same task with different particulars. A request's *literals* are the parts a recipe may
take as parameters: quoted text, paths and file names, numbers, code names (``MAX_RETRIES``,
``load_items``, ``Item.value``) and proper names (capitalised words inside a sentence).
Replacing each with its kind gives the shape (``change <name> in <path.py> to <num>``).
Requests whose shapes are close (Jaccard similarity of their words and bigrams) belong to one
category; the category keeps the first shape it saw.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("str", "path", "num", "name", "proper")

_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'|`([^`\n]{1,200})`")
# A path has a slash or a file extension; a trailing sentence dot is not part of it.
_PATH = re.compile(r"(?<![\w/.-])(?:[\w.-]+/)+[\w.-]*\w|(?<![\w/.-])[\w-]+(?:\.[A-Za-z0-9]{1,8})+"
                   r"(?![\w/])")
_NUM = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
# Code names: snake_case, CONSTANT_CASE, camelCase, dotted (a.b), or call syntax name().
_NAME = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*(?:\(\))?|"
                   r"(?<![\w.])(?:[A-Za-z]+_\w*|_\w+|[A-Z][A-Z0-9]{2,}|[a-z]+[A-Z]\w*)(?:\(\))?"
                   r"(?![\w])")
# Proper names: capitalised words inside a sentence (not its first word): "Priya Raman's".
_PROPER = re.compile(r"(?<![.!?:]\s)(?<!^)(?<![\w'])[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*(?![\w])")
_WORD = re.compile(r"<[a-z]+(?:\.[a-z0-9]+)?>|[a-z]+")


@dataclass(frozen=True)
class Literal:
    kind: str  # one of KINDS
    value: str
    start: int
    end: int


def literals(text: str) -> list[Literal]:
    """The request's literals in order of appearance, each span taken once (quotes first, then
    paths, numbers, names)."""
    taken: list[tuple[int, int]] = []
    found: list[Literal] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _QUOTED.finditer(text):
        inner = next(g for g in m.groups() if g is not None)
        kind = "path" if _PATH.fullmatch(inner) else "str"
        found.append(Literal(kind, inner, m.start(), m.end()))
        taken.append((m.start(), m.end()))
    for kind, pattern in (("path", _PATH), ("num", _NUM), ("name", _NAME),
                          ("proper", _PROPER)):
        for m in pattern.finditer(text):
            value = m.group(0)
            if (kind == "path" and value.endswith(".")) or not free(m.start(), m.end()):
                continue
            found.append(Literal(kind, value, m.start(), m.end()))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda lit: lit.start)


def shape(text: str) -> str:
    """The request with each literal replaced by ``<kind>``, lower case, words only."""
    out, pos = [], 0
    for lit in literals(text):
        out.append(text[pos:lit.start])
        out.append(f" <{_kind_word(lit)}> ")
        pos = lit.end
    out.append(text[pos:])
    return " ".join(_WORD.findall("".join(out).lower()))


def _kind_word(lit: Literal) -> str:
    """A path's kind says its file type (``path.py``, ``path.json``): editing a Python file and
    a JSON file are different kinds of work."""
    if lit.kind == "path":
        ext = lit.value.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in \
            lit.value.rsplit("/", 1)[-1] else ""
        if ext.isalnum() and len(ext) <= 5:
            return f"path.{ext}"
    return lit.kind


def slots(text: str) -> dict[str, str]:
    """Placeholder → value: ``{"path0": "inventory/config.py", "num0": "60", …}``."""
    counts: dict[str, int] = {}
    out: dict[str, str] = {}
    for lit in literals(text):
        n = counts.get(lit.kind, 0)
        counts[lit.kind] = n + 1
        out[f"{lit.kind}{n}"] = lit.value
    return out


def _features(shape_text: str) -> set[str]:
    words = shape_text.split()
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two shapes' words and word pairs (1.0 = the same shape)."""
    fa, fb = _features(a), _features(b)
    if not fa and not fb:
        return 1.0
    return len(fa & fb) / len(fa | fb)


def slug(shape_text: str, limit: int = 48) -> str:
    """A short readable name for a shape (``change-name-in-path-to-num``)."""
    words = [w.strip("<>").replace(".", "-") for w in shape_text.split()]
    out = ""
    for w in words:
        nxt = f"{out}-{w}" if out else w
        if len(nxt) > limit:
            break
        out = nxt
    return out or "task"


def closest(text_shape: str, known: Iterable[str], threshold: float) -> str | None:
    """The known shape most like ``text_shape`` at or above ``threshold``, if any."""
    best, score = None, threshold
    for candidate in known:
        s = similarity(text_shape, candidate)
        if s >= score:
            best, score = candidate, s
    return best
