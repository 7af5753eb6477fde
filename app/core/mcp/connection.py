"""One MCP server: start it, list its tools, call them, stop it.

The SDK's client is an async context (its task group lives in the task that entered it), so each
server gets one long-lived task that enters the client, reports ready, and waits to be told to
stop; calls from any task go through the connected client. A stdio server runs in its own process
group (the SDK starts it with ``start_new_session``) and stopping follows the MCP shutdown
sequence: close its stdin, wait, then SIGTERM and SIGKILL. The SDK signals the group only when the
server itself does not exit, so a server that exits politely can leave helpers behind in its group;
the group is therefore found at start (by a marker in the server's environment) and signalled after
the shutdown as well. Its stderr goes to a log file, never to the terminal the TUI draws on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from app.core.mcp.settings import McpServerConfig
from app.core.policy.redact import redact, register_secret_env
from app.core.settings.paths import get_paths

log = logging.getLogger(__name__)

STOPPED, STARTING, READY, FAILED = "stopped", "starting", "ready", "failed"
STOP_TIMEOUT = 10.0  # seconds for the SDK's shutdown sequence (2 s + 2 s + reaping)
GROUP_GRACE = 2.0  # seconds between SIGTERM and SIGKILL for what is left of the group
MARKER_ENV = "NANOBOT_MCP_SERVER"


class McpUnavailable(Exception):
    """The ``mcp`` package is not installed (it is the optional extra ``nanobot[mcp]``)."""


def sdk_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mcp") is not None


@dataclass(frozen=True)
class RemoteTool:
    """A tool as the server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]


def log_path(name: str) -> Path:
    return get_paths().state_dir / "mcp" / f"{name}.log"


def _find_group(marker: str) -> int | None:
    """The process group of our child whose environment carries ``marker`` (the stdio server;
    the SDK makes it a group leader, so its pid is the group id)."""
    import psutil

    for child in psutil.Process().children():
        try:
            if child.environ().get(MARKER_ENV) == marker:
                return int(os.getpgid(child.pid)) if os.getpgid(child.pid) == child.pid else None
        except (psutil.Error, OSError):
            continue
    return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_group(pgid: int, grace: float = GROUP_GRACE) -> None:
    """SIGTERM the group, SIGKILL what is left after ``grace`` seconds (blocking: run in a
    thread)."""
    if pgid <= 1 or pgid == os.getpgrp() or not _group_alive(pgid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting on processes we do not own: no event to await
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _expand(value: str) -> str:
    return os.path.expandvars(value)


def _secret_names(values: dict[str, str]) -> list[str]:
    """Environment variables a value refers to (``$NAME`` / ``${NAME}``): they hold secrets."""
    import re

    return [m.group(1) or m.group(2)
            for v in values.values() for m in re.finditer(r"\$\{(\w+)\}|\$(\w+)", v)]


class McpConnection:
    def __init__(self, name: str, config: McpServerConfig, workspace: Path) -> None:
        self.name = name
        self.config = config
        self.workspace = workspace
        self.state = STOPPED
        self.error = ""
        self.tools: list[RemoteTool] = []
        self.server_label = ""  # the server's own name and version
        self.started_at = 0.0
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._errlog: TextIO | None = None
        self._marker = f"{name}:{uuid.uuid4().hex}"
        self._pgid: int | None = None
        for env_name in (*_secret_names(config.env), *_secret_names(config.headers),
                         config.bearer_token_env):
            register_secret_env(env_name)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the server and list its tools; returns when it is ready or has failed (see
        :attr:`state` and :attr:`error`). Never raises for a server that does not work."""
        if self.state in (READY, STARTING):
            if self.state == STARTING:
                await self._ready.wait()
            return
        if not sdk_available():
            self.state, self.error = FAILED, ("the MCP SDK is not installed: "
                                              "pip install 'nanobot[mcp]'")
            return
        self.state, self.error, self.tools = STARTING, "", []
        self._ready, self._stop = asyncio.Event(), asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.config.startup_timeout)
        except TimeoutError:
            await self.stop()
            self.state = FAILED
            self.error = (f"did not start within {self.config.startup_timeout:g} s "
                          f"(mcp_servers.{self.name}.startup_timeout)")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stop.set()
        if task is not None and not task.done():
            if self.state == STARTING:
                task.cancel()  # still in the handshake: nothing to wind down politely
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._client = None
        pgid, self._pgid = self._pgid, None
        if pgid is not None:  # helpers the server started and left in its group
            await asyncio.to_thread(kill_group, pgid)
        if self.state != FAILED:
            self.state = STOPPED
        self._close_errlog()

    async def _run(self) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                from mcp import Client
                from mcp.types import Implementation

                from app import __version__

                transport = self._transport(stack)
                client = Client(transport, client_info=Implementation(name="nanobot",
                                                                     version=__version__),
                                read_timeout_seconds=self.config.call_timeout)
                await stack.enter_async_context(client)
                self._client = client
                if not self.config.url:
                    self._pgid = await asyncio.to_thread(_find_group, self._marker)
                info = client.server_info
                self.server_label = (f"{info.name} {info.version}".strip() if info else "")
                self.tools = await self._list_tools(client)
                self.state, self.started_at = READY, time.monotonic()
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # an ExceptionGroup from the SDK's task group, OSError …
            self.state = FAILED
            self.error = self._describe(exc)
            log.warning("MCP server %s failed: %s", self.name, self.error)
        finally:
            self._client = None
            if self.state == READY:
                self.state = STOPPED if self._stop.is_set() else FAILED
                if self.state == FAILED and not self.error:
                    self.error = "the server closed the connection"
            self._ready.set()

    def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        cfg = self.config
        if cfg.url:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            headers = {k: _expand(v) for k, v in cfg.headers.items()}
            if cfg.bearer_token_env and os.environ.get(cfg.bearer_token_env):
                headers["Authorization"] = f"Bearer {os.environ[cfg.bearer_token_env]}"
            http = create_mcp_http_client(headers=headers or None)
            return streamable_http_client(cfg.url, http_client=http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        path = log_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._close_errlog()
        self._errlog = path.open("a", encoding="utf-8", errors="replace")
        self._errlog.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting "
                           f"{cfg.describe()}\n")
        self._errlog.flush()
        cwd = Path(os.path.expanduser(cfg.cwd)) if cfg.cwd else self.workspace
        params = StdioServerParameters(command=os.path.expanduser(cfg.command),
                                       args=list(cfg.args),
                                       env={**{k: _expand(v) for k, v in cfg.env.items()},
                                            MARKER_ENV: self._marker},
                                       cwd=str(cwd))
        return stdio_client(params, errlog=self._errlog)

    @staticmethod
    async def _list_tools(client: Any) -> list[RemoteTool]:
        tools: list[RemoteTool] = []
        cursor = None
        for _ in range(100):  # a server whose pages never end cannot hang the start
            page = await client.list_tools(cursor=cursor)
            for t in page.tools:
                schema = t.input_schema if isinstance(t.input_schema, dict) else {}
                tools.append(RemoteTool(t.name, t.description or t.title or "", dict(schema)))
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    def _describe(self, exc: BaseException) -> str:
        leaves: list[BaseException] = []

        def walk(e: BaseException) -> None:
            if isinstance(e, BaseExceptionGroup):
                for sub in e.exceptions:
                    walk(sub)
            else:
                leaves.append(e)

        walk(exc)
        first = leaves[0] if leaves else exc
        text = f"{type(first).__name__}: {first}" if str(first) else type(first).__name__
        if isinstance(first, FileNotFoundError):
            text = f"command not found: {self.config.command}"
        tail = self.stderr_tail()
        if tail:
            text += f" (stderr: {tail})"
        return redact(text)

    def stderr_tail(self, lines: int = 3) -> str:
        """The server's last lines on stderr (stdio servers), for a failure notice."""
        path = log_path(self.name)
        if self.config.url or not path.is_file():
            return ""
        try:
            with path.open("rb") as fh:
                fh.seek(max(0, path.stat().st_size - 4000))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        chunk = text.rsplit("--- ", 1)[-1].splitlines()[1:]  # this run only
        kept = [ln.strip() for ln in chunk if ln.strip()][-lines:]
        return redact(" | ".join(kept))[:400]

    def _close_errlog(self) -> None:
        if self._errlog is not None:
            with contextlib.suppress(OSError):
                self._errlog.close()
            self._errlog = None

    # --- calls -------------------------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """The SDK's ``CallToolResult``; raises ``ConnectionError`` when the server is not up."""
        client = self._client
        if self.state != READY or client is None:
            why = f": {self.error}" if self.error else ""
            raise ConnectionError(f"MCP server {self.name!r} is {self.state}{why}")
        return await asyncio.wait_for(client.call_tool(tool, arguments), self.config.call_timeout)
