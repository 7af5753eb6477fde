"""The ``exec`` policy in one place: the deny-list verdict and the allow decision.

Commands are parsed, not pattern-matched (see ``app.core.policy``): :func:`deny_reason` refuses a
command when any command the shell would run (through wrappers, ``eval``, ``sh -c``, ``env -S``,
substitutions, pipes into a shell) is on the deny-list; :func:`review` adds whether the command is
a single plain command an allow entry covers, and what "allow for this session" would cover.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.policy.command_check import Assessment, assess
from app.core.policy.exec_review import CommandReview, review

__all__ = ["Assessment", "CommandReview", "assess", "deny_reason", "review"]


def deny_reason(command: str, extra_patterns: Iterable[str] = (), *, builtin: bool = True) -> str:
    """Why ``command`` is refused ("" when it is not on the deny-list). ``builtin=False`` checks
    only the configured patterns."""
    return assess(command, tuple(extra_patterns), builtin=builtin).refusal
