"""Shell words as ``/bin/sh`` would see them: quote removal, known expansions, field splitting.

The parser (bashlex) finds where a word starts and ends and which expansions it holds; its own
quote removal is not trusted (it drops the backslash in ``"a\\_b"``, which the shell keeps), so the
value of each word is computed here from the source text. Variables assigned literally earlier in
the same command (``S=';'; eval … $S …``) are substituted; anything else a shell would compute at
run time (``$(…)``, ``$UNSET``, ``${X:-…}``, arithmetic, brace expansion) makes the word *unknown*,
and the caller decides what an unknown word means (for the program name: ask).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_GLOB = set("*?[")
_ANSI_C = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


@dataclass(frozen=True)
class Part:
    """An expansion inside a word, by offsets into the word's own text."""

    start: int
    end: int
    kind: str  # "parameter", "commandsubstitution", "processsubstitution", "tilde", "arithmetic"
    value: str = ""
    programs: tuple[str, ...] = ()  # programs run inside a substitution (for download checks)


@dataclass(frozen=True)
class Word:
    """One source word after expansion, best effort."""

    raw: str
    fields: tuple[str, ...]  # what the shell would pass as arguments (unknown pieces left out)
    literal: bool  # nothing but quoting: the value is exactly what was typed
    known: bool  # every expansion was resolved from literal assignments in the command
    glob: bool = False  # unquoted * ? [ (the shell may replace it with file names)
    substituted: tuple[str, ...] = ()  # programs run by $(…) / `…` / <(…) inside the word

    @property
    def text(self) -> str:
        return " ".join(self.fields)


class _Builder:
    """Collects fields the way the shell splits them: only unquoted expansions split."""

    def __init__(self) -> None:
        self.fields: list[str] = []
        self.cur: list[str] = []
        self.started = False

    def add(self, text: str) -> None:
        self.cur.append(text)
        self.started = True

    def split_in(self, value: str) -> None:
        if not value:
            return
        if value[0].isspace() and self.started:
            self._finish()
        pieces = value.split()
        for i, piece in enumerate(pieces):
            if i:
                self._finish()
            self.add(piece)
        if value[-1].isspace() and self.started:
            self._finish()

    def _finish(self) -> None:
        self.fields.append("".join(self.cur))
        self.cur, self.started = [], False

    def done(self) -> tuple[str, ...]:
        if self.started:
            self._finish()
        return tuple(self.fields)


def ansi_c(body: str) -> str:
    """The value of ``$'…'`` (body without the quotes)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ANSI_C:
            out.append(_ANSI_C[nxt])
            i += 2
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            m = re.match(f"[0-9A-Fa-f]{{1,{width}}}", body[i + 2:])
            if m:
                out.append(chr(min(int(m.group(), 16), 0x10FFFF)))
                i += 2 + len(m.group())
            else:
                out.append("\\" + nxt)
                i += 2
        elif nxt in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            assert m is not None
            out.append(chr(int(m.group(), 8) & 0xFF))
            i += 1 + len(m.group())
        elif nxt == "c" and i + 2 < len(body):
            out.append(chr(ord(body[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def _ansi_c_end(raw: str, start: int) -> int:
    """Index just past the closing quote of ``$'…'`` starting at ``start`` (the ``$``)."""
    i = start + 2
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == "'":
            return i + 1
        i += 1
    return len(raw)


def _brace_expands(raw: str, i: int) -> bool:
    """Whether the unquoted ``{`` at ``i`` opens a brace expansion (``{a,b}``, ``{1..3}``)."""
    depth = 0
    for j in range(i, len(raw)):
        ch = raw[j]
        if ch in "'\"\\":
            return True  # quoting inside: be conservative
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                body = raw[i + 1:j]
                return "," in body or ".." in body
    return False


def _param(part: Part, raw: str, env: Mapping[str, str | None]) -> str | None:
    """The value of ``$NAME`` / ``${NAME}`` when NAME was assigned a literal, else None."""
    text = raw[part.start:part.end]
    name = part.value
    if not _NAME.match(name or "") or text not in (f"${name}", f"${{{name}}}"):
        return None
    if name == "IFS" and name not in env:
        return " \t\n"  # shells start with the default IFS whatever the environment says
    return env.get(name)


def expand(raw: str, parts: Sequence[Part] = (), env: Mapping[str, str | None] | None = None,
           *, split_unknown_ifs: bool = False) -> Word:
    """Evaluate the word ``raw`` (its source text) given its expansions ``parts``."""
    env = env or {}
    at = {p.start: p for p in parts}
    b = _Builder()
    literal = known = True
    glob = False
    substituted: list[str] = []
    i, n = 0, len(raw)
    in_dq = False

    def expansion(p: Part, quoted: bool) -> None:
        nonlocal literal, known
        literal = False
        substituted.extend(p.programs)
        value: str | None
        if p.kind == "parameter":
            value = _param(p, raw, env)
        elif p.kind == "tilde":
            value = os.path.expanduser(raw[p.start:p.end])
        else:
            value = None
        if value is None:
            known = False
            b.started = True  # an unknown expansion may still produce an argument
            return
        if quoted or split_unknown_ifs:
            b.add(value)
        else:
            b.split_in(value)

    while i < n:
        ch = raw[i]
        part = at.get(i)
        if in_dq:
            if ch == '"':
                in_dq = False
                i += 1
            elif ch == "\\" and i + 1 < n:
                nxt = raw[i + 1]
                if nxt == "\n":
                    pass
                elif nxt in '$`"\\':
                    b.add(nxt)
                else:
                    b.add("\\" + nxt)
                i += 2
            elif part is not None and ch in "$`":
                expansion(part, True)
                i = max(part.end, i + 1)
            elif ch in "$`" and i + 1 < n and (raw[i + 1] in "({" or raw[i + 1].isalnum()
                                               or raw[i + 1] in "_@*#?$!-" or ch == "`"):
                literal = known = False  # an expansion the parser did not report
                b.started = True
                i += 1
            else:
                b.add(ch)
                i += 1
            continue
        if ch == "\\":
            if i + 1 < n and raw[i + 1] != "\n":
                b.add(raw[i + 1])
            i += 2
        elif ch == "'":
            end = raw.find("'", i + 1)
            end = n if end < 0 else end
            b.add(raw[i + 1:end])
            i = end + 1
        elif ch == "$" and raw.startswith("$'", i):
            end = _ansi_c_end(raw, i)
            b.add(ansi_c(raw[i + 2:end - 1]))
            i = end
        elif ch == "$" and raw.startswith('$"', i):
            in_dq = True
            b.started = True
            i += 2
        elif ch == '"':
            in_dq = True
            b.started = True
            i += 1
        elif part is not None:
            expansion(part, False)
            i = max(part.end, i + 1)
        elif ch in "$`" and i + 1 < n and (raw[i + 1] in "({" or raw[i + 1].isalnum()
                                           or raw[i + 1] in "_@*#?$!-" or ch == "`"):
            literal = known = False
            b.started = True
            i += 1
        else:
            if ch in _GLOB:
                glob = True
            elif ch == "{" and _brace_expands(raw, i):
                literal = known = False
            b.add(ch)
            i += 1
    return Word(raw, b.done(), literal, known, glob, tuple(substituted))


def literal_word(text: str) -> Word:
    """A word whose value is given (from a wrapper's split string or an echo's output)."""
    return Word(text, (text,), True, True)
