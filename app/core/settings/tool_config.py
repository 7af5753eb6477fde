"""Config sections for tools and permissions (``[tools]`` and ``[permissions]``).

Plain frozen dataclasses that the config loader fills and type-checks; :func:`problems` lists the
range and value errors the loader then reports by file and key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POLICIES = ("ask", "allow", "deny")

# Reading is harmless; changing files, running commands and reaching the network ask first.
DEFAULT_TOOL_POLICY: dict[str, str] = {
    "read_file": "allow", "list_dir": "allow", "glob": "allow", "grep": "allow",
    "web_search": "allow", "write_file": "ask", "edit_file": "ask", "exec": "ask",
    "python": "ask", "web_fetch": "ask",
    # Starting a worker changes nothing by itself: each of its tool calls meets this same policy.
    "spawn": "allow",
    # A branch too: its tools only read. Memory: a kept fact changes no file, and /memory shows,
    # edits and deletes every one (a private session keeps none).
    "branch": "allow", "remember": "allow", "recall": "allow",
    # Volumes are read-only copies the user ingested.
    "ctx_search": "allow", "ctx_grep": "allow", "ctx_slice": "allow", "ctx_info": "allow",
}


@dataclass(frozen=True)
class PermissionsConfig:
    """``[permissions]``: ask / allow / deny per tool, and allow-lists for ``exec``."""

    default: str = "ask"  # for tools not named below or in DEFAULT_TOOL_POLICY
    tools: dict[str, str] = field(default_factory=dict)
    # A single plain command runs without asking when its words start with one of these
    # ("pytest", "git status"); anything more (;, |, $, redirections, wrappers) is asked.
    exec_allow: tuple[str, ...] = ()
    # Extra regular expressions (matched against the normalised command) that are always refused.
    exec_deny: tuple[str, ...] = ()
    exec_builtin_deny: bool = True  # the built-in deny-list (rm -rf, sudo, curl|sh, mkfs …)
    # Hosts web_fetch may reach without asking ("docs.python.org", "*.python.org", "host:8080").
    web_allow: tuple[str, ...] = ()

    def policy(self, tool: str) -> str:
        return self.tools.get(tool) or DEFAULT_TOOL_POLICY.get(tool) or self.default


@dataclass(frozen=True)
class WebSearchConfig:
    backend: str = ""  # "" (none), "searxng" or "brave"
    base_url: str = ""
    api_key_env: str = ""
    max_results: int = 5


@dataclass(frozen=True)
class ToolsConfig:
    """``[tools]``: limits of the built-in tools."""

    exec_timeout: int = 60  # seconds
    exec_max_output: int = 10_000_000  # bytes kept from one command (the rest is counted)
    web_fetch_max_bytes: int = 5_000_000
    web_fetch_timeout: int = 30  # seconds for the whole fetch, every redirect and byte included
    # Hosts web_fetch may reach although they resolve to loopback/private/link-local addresses.
    web_fetch_private_hosts: tuple[str, ...] = ()
    # Environment of exec: secret-looking variables are left out except these names …
    exec_env_keep: tuple[str, ...] = ()
    # … and these glob patterns are left out too ("AWS_*").
    exec_env_exclude: tuple[str, ...] = ()
    # Background processes a command starts outlive it (a dev server) instead of being stopped.
    exec_keep_background: bool = False
    web_search: WebSearchConfig = field(default_factory=WebSearchConfig)


def problems(permissions: PermissionsConfig, tools: ToolsConfig) -> list[tuple[str, str, object]]:
    """``(key, expected, got)`` for every invalid value."""
    from app.core.tools.safe_regex import RegexError, compile_text

    out: list[tuple[str, str, object]] = []
    if permissions.default not in POLICIES:
        out.append(("permissions.default", "ask, allow or deny", permissions.default))
    for name, value in permissions.tools.items():
        if value not in POLICIES:
            out.append((f"permissions.tools.{name}", "ask, allow or deny", value))
    for i, pattern in enumerate(permissions.exec_deny):
        try:
            compile_text(pattern)
        except RegexError as exc:
            out.append((f"permissions.exec_deny[{i}]", f"a regular expression ({exc})", pattern))
    if tools.exec_timeout < 1:
        out.append(("tools.exec_timeout", "an integer >= 1 (seconds)", tools.exec_timeout))
    if tools.exec_max_output < 1000:
        out.append(("tools.exec_max_output", "an integer >= 1000 (bytes)", tools.exec_max_output))
    if tools.web_fetch_timeout < 1:
        out.append(("tools.web_fetch_timeout", "an integer >= 1 (seconds)", tools.web_fetch_timeout))
    if tools.web_fetch_max_bytes < 1000:
        out.append(("tools.web_fetch_max_bytes", "an integer >= 1000 (bytes)",
                    tools.web_fetch_max_bytes))
    ws = tools.web_search
    if ws.backend not in ("", "searxng", "brave"):
        out.append(("tools.web_search.backend", "\"\", \"searxng\" or \"brave\"", ws.backend))
    if ws.backend == "searxng" and not ws.base_url.startswith(("http://", "https://")):
        out.append(("tools.web_search.base_url", "an http(s):// URL for searxng", ws.base_url))
    if not 1 <= ws.max_results <= 10:
        out.append(("tools.web_search.max_results", "an integer from 1 to 10", ws.max_results))
    return out
