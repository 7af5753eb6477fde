"""Process groups Nanobot starts and must never leave behind: exec trees and managed servers.

Every group is tracked from its start to its reaping, so a shutdown by signal (SIGTERM, SIGHUP:
the terminal closed) or a plain exit can kill what is left (:func:`kill_all`, also run at exit).
Managed servers also get the kernel's parent-death signal (:func:`with_parent_death`): they die
with Nanobot even when it is killed with SIGKILL and no cleanup runs at all.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable

Stop = Callable[[int], None]

_lock = threading.Lock()
_groups: dict[int, tuple[str, Stop | None]] = {}  # group id -> (kind, how to stop it)

# Run by the server's own interpreter before it becomes the server (execvp keeps the setting):
# prctl(PR_SET_PDEATHSIG) asks the kernel to signal it when its parent dies, and a parent that
# died before that call is caught by comparing the parent pid.
_LAUNCHER = (
    "import ctypes,os,signal,sys\n"
    "ctypes.CDLL(None,use_errno=True).prctl(1,int(sys.argv[2]),0,0,0)\n"
    "if os.getppid()!=int(sys.argv[1]): sys.exit(70)\n"
    "os.execvp(sys.argv[3],sys.argv[3:])\n"
)


def track(pgid: int, kind: str, stop: Stop | None = None) -> None:
    """Remember group ``pgid``; ``stop(pgid)`` ends it (default: SIGKILL to the group)."""
    with _lock:
        _groups[pgid] = (kind, stop)


def untrack(pgid: int) -> None:
    with _lock:
        _groups.pop(pgid, None)


def tracked(kind: str | None = None) -> list[int]:
    with _lock:
        return [g for g, (k, _) in _groups.items() if kind is None or k == kind]


def kill_all(kinds: tuple[str, ...] | None = None) -> list[int]:
    """Stop every tracked group (of ``kinds``) its own way; returns the groups stopped."""
    with _lock:
        groups = [(g, stop) for g, (k, stop) in _groups.items() if kinds is None or k in kinds]
    for pgid, stop in groups:
        try:
            if stop is not None:
                stop(pgid)
            else:
                os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    return [g for g, _ in groups]


def with_parent_death(cmd: list[str], sig: int = signal.SIGTERM) -> list[str]:
    """``cmd`` started so that it gets ``sig`` when this process dies (Linux; elsewhere as is)."""
    if not sys.platform.startswith("linux"):
        return cmd
    return [sys.executable, "-c", _LAUNCHER, str(os.getpid()), str(int(sig)), *cmd]


atexit.register(kill_all)
