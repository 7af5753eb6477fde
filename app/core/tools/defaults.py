"""The built-in tool set, configured from ``[tools]`` and ``[permissions]``."""

from __future__ import annotations

from typing import Any

from app.core.settings.tool_config import PermissionsConfig, ToolsConfig
from app.core.tools.edit import EditFile, WriteFile
from app.core.tools.files import ListDir, ReadFile
from app.core.tools.python_tool import Python
from app.core.tools.search import Glob, Grep
from app.core.tools.shell import Exec
from app.core.tools.web import WebFetch, WebSearch
from app.core.tools.web_search import backend_from_config


def builtin_tools(tools: ToolsConfig | None = None,
                  permissions: PermissionsConfig | None = None) -> list[Any]:
    """Every built-in tool, most used first (small models read the list in this order)."""
    tools = tools or ToolsConfig()
    permissions = permissions or PermissionsConfig()
    ws = tools.web_search
    return [
        ReadFile(), ListDir(), WriteFile(), EditFile(),
        Exec(timeout=float(tools.exec_timeout), max_output=tools.exec_max_output,
             deny_patterns=permissions.exec_deny, builtin_deny=permissions.exec_builtin_deny,
             env_keep=tools.exec_env_keep, env_exclude=tools.exec_env_exclude,
             keep_background=tools.exec_keep_background),
        # The python tool runs like exec: the same secret-free environment and supervisor.
        Python(timeout=float(tools.exec_timeout), max_output=tools.exec_max_output,
               env_keep=tools.exec_env_keep, env_exclude=tools.exec_env_exclude,
               keep_background=tools.exec_keep_background),
        Glob(), Grep(),
        WebFetch(max_bytes=tools.web_fetch_max_bytes, timeout=float(tools.web_fetch_timeout),
                 private_hosts=tools.web_fetch_private_hosts),
        WebSearch(backend_from_config(ws.backend, base_url=ws.base_url,
                                      api_key_env=ws.api_key_env),
                  max_results=ws.max_results),
    ]
