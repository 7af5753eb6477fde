"""``exec``: run a shell command in the workspace.

``sh -c`` under a small supervisor (see :mod:`exec_supervisor`) in its own session, stdin closed,
stdout and stderr merged in order, and an environment without secrets (see
``app.core.policy.secret_env``). The supervisor is a child subreaper: cancel, timeout or the end of
the command kill everything the command started, grandchildren and ``setsid``/double-forked
daemons included (unless ``[tools] exec_keep_background`` lets background processes outlive a
normal end). A cancel signals the supervisor straight from the cancel call. Output beyond the cap
is counted and discarded with a visible note; what is kept goes through the Context Gate like any
tool output. Without /proc (not Linux) the command runs as before in its own process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.agent import children
from app.core.policy.exec_review import CommandReview, review
from app.core.policy.secret_env import child_env
from app.core.policy.shell_policy import deny_reason
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult, resolve_in_workspace
from app.core.tools.import_root import note as import_note
from app.core.tools.import_root import root_to_import
from app.core.tools.labels import label_for

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 10_000_000
KILL_GRACE = 0.1  # seconds between SIGTERM and SIGKILL
DRAIN_GRACE = 0.5  # how long to wait for pipes held open by leftover background processes
SUPERVISOR_GRACE = 2.0  # how long the supervisor may take to sweep before it is killed itself
SUPERVISOR = str(Path(__file__).with_name("exec_supervisor.py"))
SUPERVISED = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()


def kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group or session ``pgid``; a killed grandchild
    stays a zombie until it is reaped, which ``killpg(pgid, 0)`` cannot tell from a running
    process."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: fall back to the signal probe
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members: list[int] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and pgid in (int(fields[2]), int(fields[3])) and \
                fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def supervised_children(pid: int) -> list[int]:
    """The supervisor's children (the command's group leader), from /proc; [] if unknown."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        return []


def group_alive(pgid: int) -> bool:
    return bool(group_members(pgid))


class _Spool:
    """Keeps output up to ``cap`` bytes and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.parts: list[bytes] = []
        self.kept = 0
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.cap - self.kept
        if room > 0:
            piece = data[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        self.dropped += max(0, len(data) - max(room, 0))

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", errors="replace")


class Exec:
    mutates = True  # a success invalidates the loop's identical-call cache
    spec = ToolSpec(
        name="exec",
        description="Run a shell command in the workspace and return its output.",
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "the shell command to run"},
                "timeout": {"type": "integer", "description": "seconds before it is stopped"},
                "workdir": {"type": "string",
                            "description": "directory to run in, relative to the workspace"},
            },
            "required": ["command"],
        },
    )

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_output: int = DEFAULT_MAX_OUTPUT,
                 deny_patterns: tuple[str, ...] = (), builtin_deny: bool = True,
                 env_keep: tuple[str, ...] = (), env_exclude: tuple[str, ...] = (),
                 keep_background: bool = False) -> None:
        self.timeout = timeout
        self.max_output = max_output
        self.deny_patterns = deny_patterns
        self.builtin_deny = builtin_deny
        self.env_keep = env_keep
        self.env_exclude = env_exclude
        self.keep_background = keep_background
        self.last_pgid: int | None = None  # the command's session, for tests and the benchmark

    def label(self, args: dict[str, Any]) -> str:
        return label_for("exec", args)

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return str(args.get("command") or "")

    def refusal(self, command: str) -> str:
        """Why ``command`` must not run at all ("" when it may)."""
        return deny_reason(command, self.deny_patterns, builtin=self.builtin_deny)

    def review(self, args: dict[str, Any], workspace: Path) -> CommandReview:
        """The parsed command and what the policy can say about it (for the permission gate)."""
        cwd = resolve_in_workspace(workspace, str(args.get("workdir") or "."))
        return review(str(args.get("command") or ""), workspace=workspace, workdir=cwd,
                      path_env=self.env()["PATH"], deny_patterns=self.deny_patterns,
                      builtin=self.builtin_deny)

    def env(self) -> dict[str, str]:
        env = child_env(os.environ, keep=self.env_keep, exclude=self.env_exclude)
        # No pagers or prompts: nobody can answer them. The running interpreter's folder goes at
        # the end of PATH so "python" works where only "python3" is installed.
        env.update({"PAGER": "cat", "GIT_PAGER": "cat", "TERM": "dumb", "GIT_TERMINAL_PROMPT": "0",
                    "DEBIAN_FRONTEND": "noninteractive", "PYTHONUNBUFFERED": "1"})
        env["PATH"] = env.get("PATH", "") + os.pathsep + str(Path(sys.executable).parent)
        return env

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        command = str(args.get("command") or "")
        if not command.strip():
            raise ToolError("command is required")
        why = self.refusal(command)
        if why:
            raise ToolError(f"refused by the exec deny-list: {why}. Nothing was run.")
        cwd = resolve_in_workspace(ctx.workspace, str(args.get("workdir") or "."))
        if not cwd.is_dir():
            raise ToolError(f"workdir is not a directory: {args.get('workdir')}")
        timeout = self.timeout
        raw_timeout = args.get("timeout")
        if isinstance(raw_timeout, int | float) and not isinstance(raw_timeout, bool) \
                and raw_timeout > 0:
            timeout = min(float(raw_timeout), max(self.timeout, 600.0))
        result = await self._run(command, cwd, ctx, limit=timeout)
        folder = root_to_import(command, result.content, cwd, ctx.workspace) \
            if result.meta.get("outcome") == "done" and result.is_error else None
        if folder is None or ctx.cancel.cancelled:
            return result
        again = await self._run(command, cwd, ctx, limit=timeout, import_from=folder)
        # The note goes after the output and before its closing "[exit code N]" line, which
        # stays last: the harness reads a failing run's exit code there.
        body, sep, last = again.content.rstrip("\n").rpartition("\n")
        note = import_note(folder, ctx.workspace)
        content = f"{body}\n{note}\n{last}" if sep and last.startswith("[exit code ") \
            else f"{again.content}\n{note}"
        return replace(again, content=content)

    def _argv(self, command: str) -> list[str]:
        if not SUPERVISED:
            return ["/bin/sh", "-c", command]
        keep = ["--keep"] if self.keep_background else []
        # --parent: the supervisor stops and sweeps the command if this process dies (SIGKILL).
        return [sys.executable, "-I", "-S", SUPERVISOR, *keep, "--parent", str(os.getpid()), "--",
                "/bin/sh", "-c", command]

    @staticmethod
    def _stop(pgid: int) -> None:
        """Stop the tree now. Supervised: SIGKILL the command's own process group at once (as
        fast as before), then SIGTERM the supervisor, which sweeps what left the group.
        Otherwise SIGKILL the group."""
        if not SUPERVISED:
            kill_group(pgid, signal.SIGKILL)
            return
        for child in supervised_children(pgid):
            kill_group(child, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pgid, signal.SIGTERM)

    async def _run(self, command: str, cwd: Path, ctx: ToolContext, *, limit: float,
                   import_from: Path | None = None) -> ToolResult:
        started = time.monotonic()
        argv = self._argv(command)
        env = self.env()
        if import_from is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(import_from), env.get("PYTHONPATH", "")) if p)
        spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
            *argv, cwd=str(cwd), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True))
        try:
            proc = await asyncio.shield(spawn)
        except asyncio.CancelledError:
            # Cancelled while starting: the shell may already run; it must not be left behind.
            with contextlib.suppress(Exception):
                started_proc = await spawn
                self.last_pgid = started_proc.pid
                await self._terminate(started_proc.pid, None)
                await started_proc.wait()
            raise
        except OSError as exc:
            raise ToolError(f"could not start the shell: {exc}") from exc
        pgid = proc.pid  # start_new_session: it leads its own session and group
        self.last_pgid = pgid
        children.track(pgid, "exec", self._stop)  # a shutdown by signal stops it too
        # Cancel stops the tree inside cancel() itself, from whichever thread cancels: no wait
        # for the event loop to wake this task first.
        unsubscribe = ctx.cancel.on_cancel(lambda: self._stop(pgid))
        spool = _Spool(self.max_output)
        assert proc.stdout is not None
        reader = asyncio.ensure_future(self._pump(proc.stdout, spool))
        waiter = asyncio.ensure_future(proc.wait())
        stop = asyncio.ensure_future(ctx.cancel.wait())
        outcome = "done"
        try:
            done, _ = await asyncio.wait({waiter, stop}, timeout=limit,
                                         return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                outcome = "cancelled" if stop in done else "timeout"
                await self._terminate(pgid, waiter)
            else:
                # The command is gone; leftover background children may still hold the pipe.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(reader), DRAIN_GRACE)
                if group_alive(pgid) and not self.keep_background:
                    await self._terminate(pgid, None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), DRAIN_GRACE)
        except asyncio.CancelledError:
            # The session cancelled this task: the process tree must not outlive it.
            self._stop(pgid)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(waiter), SUPERVISOR_GRACE)
            kill_group(pgid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(waiter, 1.0)
                await self._gone(pgid, 0.5)
            raise
        finally:
            children.untrack(pgid)
            unsubscribe()
            stop.cancel()
            reader.cancel()
            if not waiter.done():
                kill_group(pgid, signal.SIGKILL)
                waiter.cancel()
        return self._result(command, proc.returncode, outcome, spool, limit,
                            time.monotonic() - started)

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, spool: _Spool) -> None:
        while True:
            chunk = await stream.read(65536)
            if not chunk:
                return
            spool.add(chunk)

    @staticmethod
    async def _terminate(pgid: int, waiter: asyncio.Future[int] | None) -> None:
        """Supervised: SIGTERM the supervisor and give it time to sweep. Otherwise (or after
        that): SIGTERM the group, SIGKILL after a short grace."""
        if SUPERVISED:
            Exec._stop(pgid)
            deadline = time.monotonic() + SUPERVISOR_GRACE
            while time.monotonic() < deadline:
                if (waiter is None or waiter.done()) and not group_alive(pgid):
                    return
                await asyncio.sleep(0.005)
        kill_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE
        while time.monotonic() < deadline:
            if waiter is not None and waiter.done() and not group_alive(pgid):
                return
            if waiter is None and not group_alive(pgid):
                return
            await asyncio.sleep(0.005)
        kill_group(pgid, signal.SIGKILL)
        for pid in group_members(pgid):  # the session, when the supervisor itself is gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if waiter is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), 1.0)
        await Exec._gone(pgid, 1.0)

    @staticmethod
    async def _gone(pgid: int, limit: float) -> None:
        """SIGKILL is delivered asynchronously: wait (briefly) until the group is really gone."""
        deadline = time.monotonic() + limit
        while group_alive(pgid) and time.monotonic() < deadline:  # noqa: ASYNC110 - no event exists for another process's death
            await asyncio.sleep(0.005)

    def _result(self, command: str, code: int | None, outcome: str, spool: _Spool,
                timeout: float, elapsed: float) -> ToolResult:
        text = spool.text()
        notes: list[str] = []
        if spool.dropped:
            notes.append(f"[output capped at {spool.cap:,} bytes: {spool.dropped:,} more bytes "
                         "were discarded; redirect to a file and read it in parts for all of it]")
        if outcome == "timeout":
            notes.append(f"[timed out after {timeout:g} s; the command and its children were "
                         "stopped]")
        elif outcome == "cancelled":
            notes.append("[cancelled by user; the command and its children were stopped]")
        elif code:
            notes.append(f"[exit code {code}]")
        if not text.strip() and not notes:
            text = "(no output)"
        body = text.rstrip("\n")
        if notes:
            body = (body + "\n" if body else "") + "\n".join(notes)
        failed = outcome != "done" or bool(code)
        return ToolResult(body, is_error=failed,
                          meta={"exit_code": code, "outcome": outcome, "seconds": elapsed,
                                "dropped_bytes": spool.dropped})
