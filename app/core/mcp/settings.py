"""``[mcp_servers.NAME]``: one MCP server, over stdio (``command``) or streamable HTTP (``url``).

    [mcp_servers.files]
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "."]
    env = { LOG_LEVEL = "warn" }            # added to PATH, HOME, USER, SHELL, TERM, LOGNAME
    policy = "ask"                          # ask (default) | allow | deny, for every tool
    tools = { read_file = "allow" }         # per tool, by the server's own tool name

    [mcp_servers.tracker]
    url = "https://mcp.example.com/mcp"
    bearer_token_env = "TRACKER_TOKEN"      # Authorization: Bearer $TRACKER_TOKEN

Values in ``env`` and ``headers`` may name environment variables (``"$GITHUB_TOKEN"``), so secrets
stay out of the file. The model sees each tool as ``NAME__tool``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

POLICIES = ("ask", "allow", "deny")
SEPARATOR = "__"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
MAX_TOOL_NAME = 64  # what OpenAI-style APIs accept for a function name


@dataclass(frozen=True)
class McpServerConfig:
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""  # "" = the workspace
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    bearer_token_env: str = ""
    enabled: bool = True
    policy: str = "ask"
    tools: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 30.0  # seconds to start and list tools
    call_timeout: float = 120.0  # seconds one tool call may take

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def policy_for(self, tool: str) -> str:
        return self.tools.get(tool) or self.policy

    def describe(self) -> str:
        if self.url:
            return self.url
        return " ".join([self.command, *self.args])


def tool_name(server: str, tool: str) -> str:
    """``server__tool`` with characters a function name may not hold replaced, at most 64 long."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", tool)
    return (server + SEPARATOR + safe)[:MAX_TOOL_NAME]


def problems(servers: dict[str, McpServerConfig]) -> list[tuple[str, str, object]]:
    """``(key, expected, got)`` for every invalid value."""
    out: list[tuple[str, str, object]] = []
    for name, s in servers.items():
        key = f"mcp_servers.{name}"
        if not NAME_RE.match(name) or SEPARATOR in name:
            out.append((key, "a name of letters, digits, - and _ (no '__': it separates the "
                             "server from the tool in NAME__tool)", name))
        if bool(s.command) == bool(s.url):
            out.append((key, "either command (a stdio server) or url (streamable HTTP), not both",
                        {"command": s.command, "url": s.url}))
        if s.url and not s.url.startswith(("http://", "https://")):
            out.append((f"{key}.url", "an http(s):// URL", s.url))
        if s.policy not in POLICIES:
            out.append((f"{key}.policy", "ask, allow or deny", s.policy))
        for tool, value in s.tools.items():
            if value not in POLICIES:
                out.append((f"{key}.tools.{tool}", "ask, allow or deny", value))
        for k, seconds in (("startup_timeout", s.startup_timeout),
                           ("call_timeout", s.call_timeout)):
            if seconds <= 0:
                out.append((f"{key}.{k}", "a number of seconds > 0", seconds))
    return out
