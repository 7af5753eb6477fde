"""The environment a command run by the agent gets: the user's, minus secrets.

Modelled on Codex's shell-environment policy: variables that config or their names mark secret
(see ``app.core.policy.redact``) are left out, as are variables that make a shell run code on start-up
(``BASH_ENV``, ``ENV``, exported ``BASH_FUNC_*`` functions). ``[tools] exec_env_keep`` passes named
variables through anyway (a test database URL a project needs); ``exec_env_exclude`` drops more
(glob patterns, case-insensitive).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from app.core.policy.redact import is_secret

_STARTUP_CODE = {"BASH_ENV", "ENV", "PROMPT_COMMAND", "PS4"}


def child_env(base: Mapping[str, str], *, keep: Iterable[str] = (),
              exclude: Iterable[str] = ()) -> dict[str, str]:
    kept = set(keep)
    patterns = [p.upper() for p in exclude]
    out: dict[str, str] = {}
    for name, value in base.items():
        if name not in kept:
            if is_secret(name, value) or name in _STARTUP_CODE or name.startswith("BASH_FUNC_"):
                continue
            if any(fnmatch.fnmatchcase(name.upper(), p) for p in patterns):
                continue
        out[name] = value
    return out


def dropped(base: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """Names left out (for the doctor and tests)."""
    return sorted(set(base) - set(env))
