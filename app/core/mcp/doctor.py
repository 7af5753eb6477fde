"""``nanobot doctor``'s MCP section: start each configured server, list its tools, stop it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.mcp.connection import READY, McpConnection, log_path, sdk_available
from app.core.mcp.settings import McpServerConfig


async def mcp_checks(servers: dict[str, McpServerConfig], workspace: Path,
                     cap_s: float | None = None) -> list[tuple[str, str, str, str]]:
    """``(name, status, detail, fix)`` per server; status is ok, info, warn or fail. ``cap_s``
    caps each server's startup_timeout."""
    if not servers:
        return []
    if not sdk_available():
        return [("sdk", "fail", f"{len(servers)} server(s) configured but the MCP SDK is not "
                 "installed", "pip install 'nanobot[mcp]'")]

    async def check(name: str, cfg: McpServerConfig) -> tuple[str, str, str, str]:
        if not cfg.enabled:
            return name, "info", f"disabled ({cfg.describe()})", ""
        if cap_s is not None:
            from dataclasses import replace

            cfg = replace(cfg, startup_timeout=min(cfg.startup_timeout, cap_s))
        conn = McpConnection(name, cfg, workspace)
        try:
            await conn.start()
            if conn.state == READY:
                names = ", ".join(t.name for t in conn.tools[:6])
                more = "…" if len(conn.tools) > 6 else ""
                label = f" ({conn.server_label})" if conn.server_label else ""
                return (name, "ok", f"{cfg.transport}: {cfg.describe()}{label} — "
                        f"{len(conn.tools)} tool(s): {names}{more}", "")
            fix = (f"check mcp_servers.{name}; the server's stderr is in {log_path(name)}"
                   if cfg.transport == "stdio" else
                   f"check that {cfg.url} is up and mcp_servers.{name} headers/token are right")
            return name, "fail", f"{cfg.transport}: {cfg.describe()} — {conn.error}", fix
        finally:
            await conn.stop()

    return list(await asyncio.gather(*(check(n, c) for n, c in servers.items())))
