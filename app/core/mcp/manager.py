"""The configured MCP servers: started lazily, their tools in every session's registry, stopped
with the app.

One :class:`McpManager` serves every session of the app (the session factory gives it to each as
a hook): nothing starts with the app; the first turn (or ``/mcp start``) starts every enabled
server at once and waits for them (each within its ``startup_timeout``; Esc Esc stops the wait). A
server that fails becomes a warning in the conversation and a line in ``/mcp`` and ``nanobot
doctor``; the turn goes on without its tools. Its tools join the tool registry of each session the
manager is attached to as ``NAME__tool``, and a session opened later (``/new``, resume) gets the
tools of servers already running.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.agent.events import Notice
from app.core.agent.hooks import SessionHook
from app.core.mcp.connection import FAILED, READY, STOPPED, McpConnection
from app.core.mcp.settings import McpServerConfig
from app.core.mcp.tools import McpTool
from app.core.tools.base import ToolRegistry

if TYPE_CHECKING:
    from app.core.agent.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerStatus:
    """One line of ``/mcp``."""

    name: str
    transport: str
    target: str
    state: str
    error: str
    tools: tuple[str, ...]
    enabled: bool


class McpManager(SessionHook):
    def __init__(self, servers: dict[str, McpServerConfig], workspace: Path) -> None:
        self.connections = {name: McpConnection(name, cfg, workspace)
                            for name, cfg in servers.items()}
        self._registries: list[ToolRegistry] = []  # of the sessions this manager serves
        self._tools: dict[str, list[McpTool]] = {}  # a running server's tools, by server name
        self._lock = asyncio.Lock()
        self._tried = False  # the lazy start happens once; /mcp restart tries again

    # --- the hook ------------------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """A new session shares the servers: it gets the tools of those already running."""
        self._registries.append(session.tools)
        for tools in self._tools.values():
            for tool in tools:
                session.tools.register(tool)

    async def before_turn(self, session: Session, turn_id: str) -> None:
        if self._tried or not self.connections:
            return
        token = session.cancel_token
        start = asyncio.ensure_future(self.start_all())
        stop = asyncio.ensure_future(token.wait()) if token is not None else None
        waits: set[asyncio.Future[Any]] = {start} if stop is None else {start, stop}
        if any(c.state not in (READY, FAILED) for c in self.connections.values()):
            session.emit(Notice(turn_id, "Starting MCP server(s): "
                                + ", ".join(self.connections), "info"))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stop is not None:
                stop.cancel()
        if not start.done():  # cancelled: the servers keep starting for the next turn
            return
        for note, level in start.result():
            session.emit(Notice(turn_id, note, level))

    # --- control -----------------------------------------------------------------------------

    async def start_all(self) -> list[tuple[str, str]]:
        """Start every enabled server not running yet; ``(notice, level)`` for each outcome."""
        async with self._lock:
            self._tried = True
            todo = [c for c in self.connections.values()
                    if c.config.enabled and c.state != READY]
            await asyncio.gather(*(c.start() for c in todo))
            return [self._settle(c) for c in todo]

    async def restart(self, name: str) -> tuple[str, str]:
        conn = self.connections[name]
        async with self._lock:
            await conn.stop()
            self._unregister(conn)
            conn.state = STOPPED
            await conn.start()
            return self._settle(conn)

    async def aclose(self) -> None:
        """Stop every server (and its process group); the registry loses their tools. Not under
        the lock: a start still waiting on a server is cut short, not waited for."""
        self._tried = True  # nothing starts again lazily after this
        await asyncio.gather(*(c.stop() for c in self.connections.values()),
                             return_exceptions=True)
        for c in self.connections.values():
            self._unregister(c)

    def _settle(self, conn: McpConnection) -> tuple[str, str]:
        if conn.state == READY:
            tools = [McpTool(conn, remote, conn.config.policy_for(remote.name))
                     for remote in conn.tools]
            self._tools[conn.name] = tools
            for registry in self._registries:
                for tool in tools:
                    registry.register(tool)
            names = ", ".join(t.name for t in conn.tools[:8])
            more = f" and {len(conn.tools) - 8} more" if len(conn.tools) > 8 else ""
            return (f"MCP server {conn.name!r} ready: {len(conn.tools)} tool(s) ({names}{more}); "
                    f"each call asks first unless its policy allows it", "info")
        self._unregister(conn)
        return (f"MCP server {conn.name!r} failed to start: {conn.error}. Its tools are "
                f"unavailable; /mcp shows the state, `nanobot doctor` checks it", "warning")

    def _unregister(self, conn: McpConnection) -> None:
        for tool in self._tools.pop(conn.name, []):
            for registry in self._registries:
                if registry.get(tool.spec.name) is tool:
                    registry.unregister(tool.spec.name)

    # --- state ---------------------------------------------------------------------------------

    def status(self) -> list[ServerStatus]:
        out = []
        for c in self.connections.values():
            tools = tuple(sorted(t.spec.name for t in self._tools.get(c.name, [])))
            state = c.state if c.config.enabled else "disabled"
            if state == STOPPED and not self._tried and c.config.enabled:
                state = "not started (starts with the first turn)"
            out.append(ServerStatus(c.name, c.config.transport, c.config.describe(), state,
                                    c.error, tools, c.config.enabled))
        return out
