"""Regular expressions from the model or the user run on RE2: linear time, no catastrophic
backtracking, so no pattern can freeze the app.

RE2 lacks look-around, backreferences, possessive quantifiers and atomic groups; a pattern that
needs them gets a clear error naming the feature instead of a silent change of meaning. Python's
``\\Z`` (end of text) is spelled ``\\z`` in RE2 and is translated.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, Generic

import re2

MAX_PATTERN = 2000
_MAX_MEM = 64 << 20  # bytes RE2 may use for one compiled program


class RegexError(ValueError):
    """A pattern that cannot be used; the message says why and what to do."""


_FEATURES = (
    (re.compile(r"\(\?<?[=!]"), "look-around ((?=…), (?!…), (?<=…), (?<!…))"),
    (re.compile(r"\\[1-9]|\(\?P=|\\k<"), "backreferences (\\1, (?P=name))"),
    (re.compile(r"\(\?>"), "atomic groups ((?>…))"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers (*+, ++, ?+)"),
    (re.compile(r"\(\?\("), "conditional groups ((?(…)…))"),
)


def _translate(pattern: str) -> str:
    """Python spellings RE2 writes differently: ``\\Z`` → ``\\z``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            out.append("\\z" if pair == "\\Z" else pair)
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _options(ignore_case: bool) -> Any:
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print to stderr, under the TUI
    opts.max_mem = _MAX_MEM
    opts.case_sensitive = not ignore_case
    return opts


class Regex(Generic[AnyStr]):
    """A compiled pattern with the small part of ``re.Pattern`` the tools use."""

    def __init__(self, pattern: AnyStr, compiled: Any) -> None:
        self.pattern: AnyStr = pattern
        self._rx = compiled

    def search(self, text: Any, pos: int = 0) -> Any:
        return self._rx.search(text, pos)

    def match(self, text: Any) -> Any:
        return self._rx.match(text)


def _message(pattern: str, detail: str) -> str:
    for rx, feature in _FEATURES:
        if rx.search(pattern):
            return (f"the pattern {pattern!r} uses {feature}, which the linear-time regex engine "
                    "does not support; rewrite it without (for example search for a simpler "
                    "pattern and filter the matches)")
    return f"bad regular expression {pattern!r}: {detail}"


def compile_text(pattern: str, *, ignore_case: bool = False) -> Regex[str]:
    """Compile a pattern for ``str`` texts; raises :class:`RegexError`."""
    if len(pattern) > MAX_PATTERN:
        raise RegexError(f"pattern is longer than {MAX_PATTERN} characters")
    try:
        return Regex(pattern, re2.compile(_translate(pattern), _options(ignore_case)))
    except re2.error as exc:
        raise RegexError(_message(pattern, _detail(exc))) from None


def compile_bytes(pattern: bytes, *, ignore_case: bool = False,
                  multiline: bool = False) -> Regex[bytes]:
    """Compile a pattern for ``bytes`` (and mmap) texts; raises :class:`RegexError`."""
    text = pattern.decode("utf-8", errors="replace")
    if len(text) > MAX_PATTERN:
        raise RegexError(f"pattern is longer than {MAX_PATTERN} characters")
    source = _translate(text)
    if multiline:
        source = "(?m)" + source
    try:
        return Regex(pattern, re2.compile(source.encode("utf-8"), _options(ignore_case)))
    except re2.error as exc:
        raise RegexError(_message(text, _detail(exc))) from None


def escape(text: str) -> str:
    return str(re2.escape(text))


def _detail(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)


def is_valid_python(pattern: str) -> bool:
    """Whether Python's own engine would accept ``pattern`` (compiling never runs it)."""
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True
