"""A conversation block as a plain record: what the conversation view draws, and what the fold of
core events (``app/tui/transcript.py``) builds, live and on resume alike.

Records are mutable: a streaming reply grows, a tool call finishes. Whoever changes one calls
:meth:`Block.touch` (the fold does it through the view's ``changed``), which bumps ``version`` so
the view knows its cached lines are stale.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal[
    "user", "steer", "assistant", "thinking", "tool", "notice", "delegate", "branch"
]
# How an assistant reply ended early: cut by Esc Esc, stopped to take a steer, restarted by a
# fallback provider.
Ended = Literal["", "cancelled", "steered", "interrupted", "withdrawn"]

_ids = itertools.count(1)


@dataclass(eq=False)
class Block:
    kind: BlockKind
    text: str = ""
    level: str = "info"  # notices: info | warning | error | cancelled | tool
    ended: Ended = ""
    streaming: bool = False  # an assistant reply or thinking still receiving text
    # tool calls
    name: str = ""
    label: str = ""
    arguments: dict[str, Any] | None = None
    status: str = ""  # tools: running | ok | error | cancelled; a reader: running or how it ended;
    # a branch: done | over_budget | cancelled | failed (its question is the label)
    duration: float = 0.0
    badge: str = ""  # a vote / grounding verdict for a tool call, when the core reports one
    # view state: a thinking block or a tool call shown in full
    open: bool = False
    version: int = 0
    uid: int = field(default_factory=lambda: next(_ids))

    def touch(self) -> None:
        self.version += 1

    @property
    def cancelled(self) -> bool:
        return self.ended == "cancelled"

    def copy_text(self) -> str:
        """What "copy block" puts on the clipboard: the source text, not the drawing."""
        if self.kind in ("tool", "delegate"):
            head = f"{self.name} {self.label}".strip()
            return f"{head}\n{self.text}" if self.text else head
        if self.kind == "branch":
            return f"{self.label}\n{self.text}"
        return self.text
