"""A conversation block as plain data: enough to rebuild its widget after pruning or on resume."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

BlockKind = Literal["user", "steer", "assistant", "thinking", "tool", "notice", "delegate"]


@dataclass(frozen=True)
class BlockSpec:
    kind: BlockKind
    text: str = ""
    level: str = "info"  # notices: info | warning | error | cancelled | tool
    cancelled: bool = False
    # tool calls
    name: str = ""
    label: str = ""
    arguments: dict[str, Any] | None = None
    status: str = ""  # running | ok | error | cancelled
    duration: float = 0.0
