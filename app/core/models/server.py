"""A managed llama.cpp server: start, health-wait, watch, restart with backoff, stop.

``llama-server`` is used when it is on PATH, else ``python -m llama_cpp.server`` from the
``llama-cpp-python[server]`` extra. Each server runs in its own process group with stdin closed and
its output appended to a log in the state directory; stopping kills the whole group and reaps it,
and an ``atexit`` hook kills whatever is left if the app dies without stopping them. Each server
also gets the parent-death signal (:mod:`app.core.agent.children`), so it dies with a killed app.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import httpx

from app.core.agent import children

log = logging.getLogger(__name__)
TAIL_LINES = 12
PROGRESS_EVERY = 1.0  # seconds between "loading…" progress reports


class ServerState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerSpec:
    model_path: Path
    context: int = 4096
    threads: int = 0
    gpu_layers: int = 0
    port: int = 0  # 0 = a free port chosen at start
    host: str = "127.0.0.1"
    alias: str = ""
    binary: str = "auto"  # "auto", "llama-server", "python"
    extra_args: tuple[str, ...] = ()
    lora: str = ""  # a LoRA adapter loaded at start ("" = none)
    lora_scale: float = 1.0
    # A custom command instead (another OpenAI-compatible server); {model}, {port}, {host},
    # {ctx} and {threads} are filled in. Health is then checked on /v1/models.
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerStatus:
    name: str
    state: ServerState
    port: int
    pid: int | None = None
    kind: str = ""  # "llama-server" or "llama_cpp.server"
    message: str = ""
    log_tail: str = ""
    restarts: int = 0
    elapsed: float = 0.0


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0
    max_restarts: int = 5  # within ``window`` seconds; then the server stays failed
    window: float = 300.0

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** max(0, attempt - 1)))


class ServerStartError(Exception):
    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message + (f"\n--- last lines of the log ---\n{log_tail}"
                                    if log_tail else ""))
        self.short = message
        self.log_tail = log_tail


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def server_command(spec: ServerSpec, port: int, *, python: str = sys.executable,
                   which: Callable[[str], str | None] = shutil.which) -> tuple[list[str], str]:
    """The command line and which server it is."""
    threads = spec.threads or max(1, (os.cpu_count() or 2))
    if spec.command:
        fill = {"model": str(spec.model_path), "port": str(port), "host": spec.host,
                "ctx": str(spec.context), "threads": str(threads)}
        return [part.format(**fill) for part in spec.command], "custom"
    binary = which("llama-server") if spec.binary in ("auto", "llama-server") else None
    if spec.binary == "llama-server" and binary is None:
        raise ServerStartError("llama-server is not on PATH (install llama.cpp, or set "
                               "binary = \"python\" to use llama_cpp.server)")
    alias = spec.alias or spec.model_path.stem
    if binary:
        lora = ["--lora-scaled", spec.lora, f"{spec.lora_scale:g}"] if spec.lora else []
        return ([binary, "--model", str(spec.model_path), "--host", spec.host,
                 "--port", str(port), "--ctx-size", str(spec.context),
                 "--n-gpu-layers", str(spec.gpu_layers if spec.gpu_layers >= 0 else 999),
                 "--threads", str(threads), "--parallel", "1", "--jinja", "--alias", alias,
                 *lora, *spec.extra_args], "llama-server")
    # llama_cpp.server applies an adapter at full scale only (no scale option).
    lora = ["--lora_path", spec.lora] if spec.lora else []
    return ([python, "-m", "llama_cpp.server", "--model", str(spec.model_path),
             "--host", spec.host, "--port", str(port), "--n_ctx", str(spec.context),
             "--n_gpu_layers", str(spec.gpu_layers), "--n_threads", str(threads),
             "--model_alias", alias, *lora, *spec.extra_args], "llama_cpp.server")


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


_live: weakref.WeakSet[ManagedServer] = weakref.WeakSet()


def _kill_all_at_exit() -> None:
    for server in list(_live):
        server.kill_now()


atexit.register(_kill_all_at_exit)

StatusListener = Callable[[ServerStatus], None]
Progress = Callable[[str], None]


@dataclass
class _Run:
    proc: asyncio.subprocess.Process
    started: float
    log_path: Path
    kind: str
    crash_times: list[float] = field(default_factory=list)


class ManagedServer:
    def __init__(self, name: str, spec: ServerSpec, *, log_dir: Path,
                 start_timeout: float = 120.0, backoff: Backoff | None = None,
                 probe_interval: float = 0.2) -> None:
        self.name = name
        self.spec = spec
        self.log_dir = log_dir
        self.start_timeout = start_timeout
        self.backoff = backoff or Backoff()
        self.probe_interval = probe_interval
        self.port = spec.port
        self._run: _Run | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._stopping = False
        self._listeners: list[StatusListener] = []
        self._crashes: list[float] = []
        self.status = ServerStatus(name, ServerState.STOPPED, spec.port)

    # --- observing ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.spec.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._run.proc.pid if self._run else None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"server-{self.name}.log"

    def add_listener(self, listener: StatusListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _set(self, state: ServerState, message: str = "", *, log_tail: str = "") -> None:
        run = self._run
        self.status = ServerStatus(
            self.name, state, self.port, pid=run.proc.pid if run else None,
            kind=run.kind if run else self.status.kind, message=message, log_tail=log_tail,
            restarts=len(self._crashes),
            elapsed=time.monotonic() - run.started if run else 0.0)
        for listener in list(self._listeners):
            try:
                listener(self.status)
            except Exception:
                log.exception("server status listener failed")

    # --- starting ----------------------------------------------------------------------------

    async def start(self, progress: Progress | None = None) -> None:
        """Start and wait until healthy; raises :class:`ServerStartError` with the log tail."""
        self._stopping = False
        try:
            await self._spawn_and_wait(progress)
        except ServerStartError as exc:
            self._set(ServerState.FAILED, exc.short, log_tail=exc.log_tail)
            raise
        self._watchdog = asyncio.ensure_future(self._watch())

    async def _spawn_and_wait(self, progress: Progress | None) -> None:
        if not self.spec.model_path.is_file():
            raise ServerStartError(f"model file not found: {self.spec.model_path}")
        if not self.port:
            self.port = free_port(self.spec.host)
        elif port_in_use(self.port, self.spec.host):
            raise ServerStartError(
                f"port {self.port} is already in use by another process; stop it or set "
                f"another port for this slot (or port = 0 to pick a free one)")
        cmd, kind = server_command(self.spec, self.port)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        launch = children.with_parent_death(cmd)  # it dies with us, even on SIGKILL
        with self.log_path.open("ab") as logf:
            logf.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: "
                       f"{' '.join(cmd)}\n".encode())
            logf.flush()
            proc = await asyncio.create_subprocess_exec(
                *launch, stdin=asyncio.subprocess.DEVNULL, stdout=logf,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        children.track(proc.pid, "server")
        self._run = _Run(proc, time.monotonic(), self.log_path, kind)
        _live.add(self)
        self._set(ServerState.STARTING, f"starting {kind} on port {self.port}")
        health = f"http://{self.spec.host}:{self.port}" + (
            "/health" if kind == "llama-server" else "/v1/models")
        deadline = time.monotonic() + self.start_timeout
        reported = -PROGRESS_EVERY
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if proc.returncode is not None:
                    await self._reap()
                    raise ServerStartError(
                        f"{kind} for {self.name} exited with code {proc.returncode} while "
                        f"starting", tail(self.log_path))
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(health)).status_code == 200:
                        break
                elapsed = time.monotonic() - self._run.started
                if time.monotonic() > deadline:
                    await self._kill_group()
                    raise ServerStartError(
                        f"{kind} for {self.name} did not become healthy within "
                        f"{self.start_timeout:.0f} s (port {self.port})", tail(self.log_path))
                if progress is not None and elapsed - reported >= PROGRESS_EVERY:
                    reported = elapsed
                    last = tail(self.log_path, 1)
                    progress(f"{self.name}: loading {self.spec.model_path.name} "
                             f"({elapsed:.1f} s){': ' + last[:80] if last else ''}")
                # Polling a child process's port: there is no readiness event to await.
                waiter = asyncio.ensure_future(proc.wait())
                await asyncio.wait({waiter}, timeout=self.probe_interval)
                waiter.cancel()
        self._set(ServerState.READY, f"{kind} ready on port {self.port}")

    async def set_lora_scale(self, scale: float) -> bool:
        """Change the scale of the adapter this server was started with, in place
        (llama-server's ``POST /lora-adapters``); False where the server cannot."""
        if self._run is None or self._run.kind != "llama-server" or not self.spec.lora:
            return False
        url = f"http://{self.spec.host}:{self.port}/lora-adapters"
        try:
            async with httpx.AsyncClient(timeout=10.0) as client:
                resp = await client.post(url, json=[{"id": 0, "scale": scale}])
        except httpx.HTTPError:
            return False
        if resp.status_code != 200:
            return False
        self.spec = replace(self.spec, lora_scale=scale)
        return True

    # --- watching ----------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            run = self._run
            if run is None:
                return
            code = await run.proc.wait()
            if self._stopping:
                return
            now = time.monotonic()
            self._crashes = [t for t in self._crashes if now - t < self.backoff.window]
            self._crashes.append(now)
            crash_tail = tail(self.log_path)
            if len(self._crashes) > self.backoff.max_restarts:
                self._set(ServerState.FAILED,
                          f"{self.name} crashed {len(self._crashes)} times in "
                          f"{self.backoff.window:.0f} s (last exit code {code}); not restarting",
                          log_tail=crash_tail)
                return
            delay = self.backoff.delay(len(self._crashes))
            self._set(ServerState.RESTARTING,
                      f"{self.name} exited with code {code}; restarting in {delay:.0f} s",
                      log_tail=crash_tail)
            await asyncio.sleep(delay)
            if self._stopping:
                return
            try:
                await self._spawn_and_wait(None)
            except ServerStartError as exc:
                self._set(ServerState.RESTARTING, exc.short, log_tail=exc.log_tail)
                # The next loop iteration sees the dead process and backs off again.
                if self._run is None or self._run.proc.returncode is None:
                    return

    # --- stopping ----------------------------------------------------------------------------

    async def stop(self) -> None:
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await self._kill_group()
        self._set(ServerState.STOPPED, "stopped")
        _live.discard(self)

    async def _kill_group(self, grace: float = 5.0) -> None:
        run = self._run
        if run is None:
            return
        if run.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(run.proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(run.proc.pid, signal.SIGKILL)
                await run.proc.wait()
        await self._reap()

    async def _reap(self) -> None:
        run = self._run
        if run is None:
            return
        # Children the server itself forked share its group: make sure none outlive it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(run.proc.pid, signal.SIGKILL)
        await run.proc.wait()
        children.untrack(run.proc.pid)

    def kill_now(self) -> None:
        """Synchronous last resort (atexit): kill the group without an event loop."""
        run = self._run
        if run is not None and run.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.proc.pid, signal.SIGKILL)

    def kill_process(self) -> int:
        """Kill the server's process group as a crash would; the watchdog then restarts it."""
        pid = self.pid
        if pid is None:
            raise RuntimeError("server is not running")
        os.killpg(pid, signal.SIGKILL)
        return pid


def with_port(spec: ServerSpec, port: int) -> ServerSpec:
    return replace(spec, port=port)
