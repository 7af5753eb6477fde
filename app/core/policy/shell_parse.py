"""Parse a shell command into the simple commands it would run (bashlex), with their words
evaluated by :mod:`shell_words`.

Everything the shell would run is collected, wherever it sits: lists, pipelines, subshells,
``if``/``for``/``while`` bodies, function bodies, ``$(…)``, backticks and ``<(…)``. What the parser
cannot handle (``case``, ``[[``, arithmetic, some here-documents) comes back as an error; the
callers treat that as "cannot tell" and ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bashlex

from app.core.policy.shell_words import Part, Word, expand

MAX_COMMAND_CHARS = 20_000  # longer commands are not analysed (asked instead)
_DECLARERS = {"export", "readonly", "declare", "typeset", "local"}


@dataclass(frozen=True)
class Redirect:
    op: str  # ">", ">>", "<", ">&", "&>", "<<", "<<<", …
    target: Word | None  # the file (None for a descriptor duplication such as 2>&1)
    body: str | None = None  # a here-document's or here-string's text


@dataclass(frozen=True)
class Simple:
    """One simple command: assignments, words, redirections."""

    words: tuple[Word, ...]
    assignments: tuple[tuple[str, Word], ...] = ()
    redirects: tuple[Redirect, ...] = ()
    source: str = ""

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(f for w in self.words for f in w.fields)

    @property
    def program_known(self) -> bool:
        return bool(self.words) and self.words[0].known and bool(self.words[0].fields)


@dataclass
class Script:
    source: str
    commands: list[Simple] = field(default_factory=list)  # every simple command, source order
    pipelines: list[list[Simple | None]] = field(default_factory=list)  # None: a compound stage
    features: set[str] = field(default_factory=set)  # list, pipeline, background, compound, …
    error: str = ""


class _Walker:
    def __init__(self, source: str, env: dict[str, str | None]) -> None:
        self.src = source
        self.env = env
        self.script = Script(source)
        self.ifs_changed = "IFS" in env

    def word(self, node: Any, start: int | None = None) -> Word:
        lo, hi = node.pos
        lo = lo if start is None else start
        parts: list[Part] = []
        for p in getattr(node, "parts", None) or []:
            parts.extend(self._part(p, lo))
        w = expand(self.src[lo:hi], parts, self.env)
        if self.ifs_changed and not w.literal:
            w = Word(w.raw, w.fields, False, False, w.glob, w.substituted)
        return w

    def _part(self, p: Any, base: int) -> list[Part]:
        kind = p.kind
        lo, hi = p.pos[0] - base, p.pos[1] - base
        if kind == "parameter":
            return [Part(lo, hi, "parameter", str(getattr(p, "value", "") or ""))]
        if kind == "tilde":
            return [Part(lo, hi, "tilde")]
        if kind in ("commandsubstitution", "processsubstitution"):
            self.script.features.add("substitution")
            before = len(self.script.commands)
            self.walk(p.command)
            progs = tuple(c.argv[0] for c in self.script.commands[before:] if c.argv)
            return [Part(lo, hi, kind, programs=progs)]
        return [Part(lo, hi, kind)]

    def walk(self, node: Any) -> None:
        kind = node.kind
        if kind == "command":
            self._command(node)
        elif kind == "list":
            commands = [p for p in node.parts if p.kind not in ("operator", "reservedword")]
            if len(commands) > 1:
                self.script.features.add("list")
            for p in node.parts:
                if p.kind == "operator" and p.op == "&":
                    self.script.features.add("background")
                self.walk(p)
        elif kind == "pipeline":
            stages: list[Simple | None] = []
            real = [p for p in node.parts if p.kind not in ("pipe", "reservedword")]
            if len(real) > 1:
                self.script.features.add("pipeline")
            if any(p.kind == "reservedword" and p.word == "!" for p in node.parts):
                self.script.features.add("negation")
            for p in real:
                before = len(self.script.commands)
                self.walk(p)
                stages.append(self.script.commands[before] if p.kind == "command"
                              and len(self.script.commands) > before else None)
            if len(stages) > 1:
                self.script.pipelines.append(stages)
        elif kind in ("compound", "if", "for", "while", "until", "function"):
            self.script.features.add("function" if kind == "function" else "compound")
            if kind == "for":
                names = [p for p in node.parts if p.kind == "word"]
                if names:
                    self.env[self.src[names[0].pos[0]:names[0].pos[1]]] = None
            for p in list(getattr(node, "list", None) or []) + list(getattr(node, "parts", None)
                                                                   or []):
                if p.kind not in ("reservedword", "operator", "word", "pipe"):
                    self.walk(p)
            for r in getattr(node, "redirects", None) or []:
                self.script.features.add("redirect")
                self._redirect(r)
        elif kind in ("reservedword", "operator", "pipe", "word"):
            return
        else:
            raise NotImplementedError(f"node {kind}")

    def _redirect(self, node: Any) -> Redirect:
        op = str(node.type)
        out = getattr(node, "output", None)
        heredoc = getattr(node, "heredoc", None)
        if heredoc is not None:
            body = str(heredoc.value)
            lines = body.split("\n")
            if len(lines) > 1:
                body = "\n".join(lines[:-1])  # the parser keeps the closing delimiter line
            return Redirect(op, None, body)
        if out is None or isinstance(out, int):
            return Redirect(op, None)
        target = self.word(out)
        if op == "<<<":
            return Redirect(op, None, target.text if target.known else None)
        return Redirect(op, target)

    def _command(self, node: Any) -> None:
        words: list[Word] = []
        assigns: list[tuple[str, Word]] = []
        redirects: list[Redirect] = []
        for p in node.parts:
            if p.kind == "assignment":
                raw = self.src[p.pos[0]:p.pos[1]]
                name = raw.split("=", 1)[0]
                assigns.append((name, self.word(p, p.pos[0] + len(name) + 1)))
            elif p.kind == "word":
                words.append(self.word(p))
            elif p.kind == "redirect":
                redirects.append(self._redirect(p))
        if redirects:
            self.script.features.add("redirect")
        simple = Simple(tuple(words), tuple(assigns), tuple(redirects),
                        self.src[node.pos[0]:node.pos[1]])
        self.script.commands.append(simple)
        if not words:
            for name, value in assigns:
                self._assign(name, value)
        elif words[0].literal and words[0].text in _DECLARERS:
            for w in words[1:]:
                if "=" in w.text:
                    var, _, text = w.text.partition("=")
                    self.env[var] = text if w.known else None
                    self.ifs_changed |= var == "IFS"
        elif words[0].literal and words[0].text in ("unset", "read", "readarray", "mapfile",
                                                    "getopts", "printf"):
            for w in words[1:]:
                self.env[w.text] = None

    def _assign(self, name: str, value: Word) -> None:
        self.env[name] = "".join(value.fields) if value.known else None
        self.ifs_changed |= name == "IFS"


def parse(command: str, env: dict[str, str | None] | None = None) -> Script:
    """The simple commands in ``command``; ``env`` holds variables assigned before (for ``eval``
    and ``sh -c`` strings analysed inside a larger command) and is updated."""
    env = {} if env is None else env
    walker = _Walker(command, env)
    if len(command) > MAX_COMMAND_CHARS:
        walker.script.error = f"longer than {MAX_COMMAND_CHARS:,} characters"
        return walker.script
    if not command.strip():
        return walker.script
    try:
        trees = bashlex.parse(command)
        for tree in trees:
            walker.walk(tree)
    except RecursionError:
        walker.script.error = "nested too deeply"
    except Exception as exc:  # bashlex raises ParsingError, NotImplementedError and others
        walker.script.error = f"{type(exc).__name__}: {exc}".strip()[:200]
    return walker.script
