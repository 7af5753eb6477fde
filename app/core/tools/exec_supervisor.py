"""Runs one ``exec`` command and makes sure nothing it started outlives it (Linux).

Started by the ``exec`` tool as ``python -I -S exec_supervisor.py [--keep] [--parent PID] --
ARGV…``. With ``--parent`` it asks for SIGTERM when that process dies (``PR_SET_PDEATHSIG``), so a
killed Nanobot still has its commands stopped and swept. It marks
itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``), so every process the command
starts and then abandons, including ones that left the process group and the session with
``setsid`` or a double fork, is re-parented to it rather than to init. The command runs in its
own process group; when it ends (or on SIGTERM, which is how the tool cancels), the supervisor
kills that group and then every remaining descendant, reaps them, and exits with the command's
status (128+N for a signal). ``--keep`` leaves background processes running after a normal end.

Only the standard library is used: the file runs in an isolated interpreter (``-I -S``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1


class _Stop(Exception):
    pass


def _subreaper() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass  # without it, the process group kill below still applies


def _die_with_parent() -> None:
    """SIGTERM (a stop and sweep, below) when the parent dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass  # the parent's own shutdown still stops the command


def _children_map() -> dict[int, list[int]]:
    """ppid → live children, from a scan of every process (when children files are missing)."""
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat(int(name))
        if len(fields) > 1 and fields[0] not in ("Z", "X"):
            kids.setdefault(int(fields[1]), []).append(int(name))
    return kids


def _stat(pid: int) -> list[str]:
    """State, ppid, … of ``pid`` ([] when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return []
    return stat[stat.rfind(")") + 2:].split()


def _children(pid: int) -> list[int] | None:
    """Children of ``pid`` from /proc/PID/task/*/children (None when the kernel lacks them)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
        except FileNotFoundError:
            return None
        except OSError:
            continue
    return out


def descendants(root: int) -> list[int]:
    """Live descendants of ``root``: a walk down the tree (cheap), or a scan of every process
    where the kernel does not list children."""
    out: list[int] = []
    todo = [root]
    while todo:
        kids = _children(todo.pop())
        if kids is None:
            break
        for pid in kids:
            fields = _stat(pid)
            if fields and fields[0] not in ("Z", "X"):
                out.append(pid)
            todo.append(pid)
    else:
        return out
    table = _children_map()
    out, todo = [], list(table.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(table.get(pid, []))
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep(me: int, deadline: float = 5.0) -> None:
    """Kill every live descendant until none is left (new ones may appear while we kill)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        live = descendants(me)
        _reap()
        if not live:
            return
        for pid in live:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)


def main(argv: list[str]) -> int:
    keep = False
    parent = 0
    if argv and argv[0] == "--keep":
        keep, argv = True, argv[1:]
    if len(argv) > 1 and argv[0] == "--parent" and argv[1].isdigit():
        parent, argv = int(argv[1]), argv[2:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        return 2
    _subreaper()
    me = os.getpid()

    def stop(signum: int, frame: object) -> None:
        raise _Stop(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    if parent:
        _die_with_parent()
        if os.getppid() != parent:  # it died before the line above: nothing was started
            return 128 + signal.SIGTERM
    pid = -1
    status = 0
    try:
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # the child may have done it already
        _, wstatus = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(wstatus)
        status = 128 - status if status < 0 else status
        if not keep:
            _kill_group(pid)
            sweep(me)
        return status
    except OSError:
        return 127
    except _Stop as stopped:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second stop must not interrupt the sweep
        if pid > 0:
            _kill_group(pid)
        sweep(me)
        return 128 + int(stopped.args[0])


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


if __name__ == "__main__":
    # Nothing is buffered: skip the interpreter's teardown, the caller is waiting on our exit.
    os._exit(main(sys.argv[1:]))
