"""The tool contract and registry."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.core.cancel import CancelToken
from app.core.providers.base import ToolSpec


@dataclass(frozen=True)
class ToolResult:
    content: str
    is_error: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolContext:
    workspace: Path
    cancel: CancelToken
    turn_id: str = ""


class Tool(Protocol):
    spec: ToolSpec

    def label(self, args: dict[str, Any]) -> str:
        """A one-line human description of the call ("Reading app/core/session.py")."""
        ...

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult: ...


class ToolError(Exception):
    """A tool failed in a way the model can act on; the message becomes the tool result."""


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.register(t)

    def register(self, tool: Tool) -> None:
        self._tools[tool.spec.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> set[str]:
        return set(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(t.spec for t in self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)


def resolve_in_workspace(workspace: Path, raw: str) -> Path:
    """Resolve ``raw`` against the workspace; refuse anything whose real path leaves it.

    ``~``, absolute paths, ``..`` and symlinks are all judged by the resolved real path, so every
    spelling of an escape is refused the same way.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ToolError("path is required")
    if "\x00" in raw:
        raise ToolError("path contains a NUL byte")
    root = workspace.resolve()
    candidate = Path(os.path.expanduser(raw)) if raw.startswith("~") else Path(raw)
    if not candidate.is_absolute():
        candidate = root / candidate
    real = Path(os.path.realpath(candidate))
    if real != root and root not in real.parents:
        raise ToolError(f"path {raw!r} is outside the workspace ({root}); refused")
    return real
