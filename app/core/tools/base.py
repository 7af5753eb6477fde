"""The tool contract and registry."""

from __future__ import annotations

import os
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core.agent.cancel import CancelToken
from app.core.providers.base import ToolSpec

if TYPE_CHECKING:
    from app.core.context.context_gate import ContextGate


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
    # Where oversized outputs were cached; ``read_file`` resolves its ``@outN`` handles here.
    gate: ContextGate | None = None


class Tool(Protocol):
    """A tool. Optional class attributes the loop reads: ``read_only = True`` (changes nothing, so
    a tool the permission policy does not name runs without asking) and ``mutates = True`` (a
    success invalidates the loop's identical-call cache)."""

    spec: ToolSpec

    def label(self, args: dict[str, Any]) -> str:
        """A one-line human description of the call ("Reading app/core/agent/session.py")."""
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

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def names(self) -> set[str]:
        return set(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(t.spec for t in self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))


def decoded_path(raw: str) -> str:
    """``raw`` with the spellings a shell, a URL or a font would turn into something else undone:
    percent-encoding (repeatedly), fullwidth and other compatibility characters, backslashes,
    ``file://`` and environment variables."""
    text = unicodedata.normalize("NFKC", raw)
    for _ in range(3):
        decoded = urllib.parse.unquote(text)
        if decoded == text:
            break
        text = unicodedata.normalize("NFKC", decoded)
    text = text.replace("\\", "/")
    if text.lower().startswith("file:"):
        text = text[5:]
        while text.startswith("//"):
            text = text[1:]
    return os.path.expandvars(text)


def _real(root: Path, raw: str) -> Path:
    candidate = Path(os.path.expanduser(raw)) if raw.startswith("~") else Path(raw)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        return Path(os.path.realpath(candidate))
    except OSError as exc:  # a component vanished or looped while it was being resolved
        raise ToolError(f"path {raw!r} changed while it was being checked "
                        f"({exc.strerror or exc}); refused") from None


def _inside(root: Path, real: Path) -> bool:
    return real == root or root in real.parents


def resolve_in_workspace(workspace: Path, raw: str) -> Path:
    """Resolve ``raw`` against the workspace; refuse anything whose real path leaves it.

    ``~``, absolute paths, ``..`` and symlinks are all judged by the resolved real path, so every
    spelling of an escape is refused the same way. Encoded spellings (``%2e%2e/``, fullwidth
    dots, backslashes, ``file://``, ``$HOME``) are decoded and must stay inside too.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ToolError("path is required")
    if "\x00" in raw:
        raise ToolError("path contains a NUL byte")
    if len(os.fsencode(raw)) > 4000 or any(len(os.fsencode(part)) > 255
                                           for part in raw.replace("\\", "/").split("/")):
        raise ToolError("file name too long (at most 255 bytes per name)")
    root = workspace.resolve()
    real = _real(root, raw)
    if not _inside(root, real):
        raise ToolError(f"path {raw!r} is outside the workspace ({root}); refused")
    decoded = decoded_path(raw)
    if "\x00" in decoded:
        raise ToolError("path contains a NUL byte")
    if decoded != raw and not _inside(root, _real(root, decoded)):
        # The decoded spelling is never shown: it may hold expanded environment variables.
        raise ToolError(f"path {raw!r} is outside the workspace once decoded (percent-encoding, "
                        "~, $VARIABLES or look-alike characters); refused")
    return real
