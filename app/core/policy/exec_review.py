"""Everything the permission gate needs to know about one ``exec`` command."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.policy.command_allow import covered, entry_words, plain_words, session_prefix
from app.core.policy.command_check import assess


@dataclass(frozen=True)
class CommandReview:
    command: str
    refusal: str  # the deny-list refuses it
    unsure: str  # nobody can tell what it runs: always ask
    argv: tuple[str, ...] | None  # the words of a plain command (None otherwise)
    not_plain: str  # why it is not plain ("" when it is)
    workspace: Path
    workdir: Path
    path_env: str

    def why_not_allowed(self, entries: Iterable[Sequence[str]]) -> str:
        """"" when one of ``entries`` (word lists) allows the command without a question."""
        if self.refusal:
            return self.refusal
        if self.unsure:
            return self.unsure
        if self.argv is None:
            return self.not_plain
        reasons: list[str] = []
        for entry in entries:
            why = covered(self.argv, tuple(entry), workspace=self.workspace,
                          workdir=self.workdir, path_env=self.path_env)
            if not why:
                return ""
            if not why.startswith("it does not start with"):
                reasons.append(why)
        return reasons[0] if reasons else "no allow entry covers it"

    def allowed_by(self, entries: Iterable[str]) -> bool:
        """Whether the configured allow-list (strings such as ``"git status"``) covers it."""
        words = entry_words(entries)
        return bool(words) and not self.why_not_allowed(words)

    @property
    def session_words(self) -> tuple[str, ...] | None:
        """The words "allow for this session" would cover (None: only this exact command)."""
        return session_prefix(self.argv) if self.argv is not None else None

    @property
    def session_key(self) -> str:
        words = self.session_words
        if words is None:
            return "exec-exact\x00" + self.command
        return "exec\x00" + "\x00".join(words)

    @property
    def session_label(self) -> str:
        words = self.session_words
        return f"`{shlex.join(words)}`" if words is not None else "this exact command"

    def session_allows(self, keys: Iterable[str]) -> bool:
        keys = set(keys)
        if "exec-exact\x00" + self.command in keys:
            return True
        entries = [tuple(k.split("\x00")[1:]) for k in keys if k.startswith("exec\x00")]
        return bool(entries) and not self.why_not_allowed(entries)


def review(command: str, *, workspace: Path, workdir: Path, path_env: str,
           deny_patterns: Sequence[str] = (), builtin: bool = True) -> CommandReview:
    found = assess(command, deny_patterns, builtin=builtin)
    argv, why = plain_words(command)
    return CommandReview(command, found.refusal, found.unsure, argv, why, workspace, workdir,
                         path_env)
