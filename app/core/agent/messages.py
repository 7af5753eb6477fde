"""The canonical conversation model.

History is kept in this one form. Wire formats (OpenAI chat, a GGUF's own Jinja template) are rendered
from it at send time by :mod:`app.core.wire.render`, so repairs happen in one place and nothing is mutated
to suit a particular model.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool", "notice", "summary"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool", "notice", "summary")


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class ToolCall:
    """A request from the model to run a tool; ``arguments`` is always a parsed JSON object."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def arguments_json(self) -> str:
        return json.dumps(self.arguments, ensure_ascii=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToolCall:
        args = d.get("arguments") or {}
        return cls(id=str(d.get("id") or new_call_id()), name=str(d.get("name", "")),
                   arguments=dict(args) if isinstance(args, dict) else {})


@dataclass(frozen=True)
class Message:
    """One entry of the canonical history.

    - ``user`` / ``assistant`` / ``system``: what they say.
    - ``assistant`` may carry ``reasoning`` and ``tool_calls``; ``cancelled`` marks a partial reply.
    - ``tool``: the result of the call ``tool_call_id`` to tool ``name``.
    - ``notice``: something the harness tells the model mid-thread (a fallback, a steer, a status).
    - ``summary``: a compaction summary standing in for older history.
    """

    role: Role
    content: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    cancelled: bool = False
    is_error: bool = False
    pinned: bool = False

    def with_content(self, content: str) -> Message:
        return replace(self, content=content)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.reasoning:
            d["reasoning"] = self.reasoning
        if self.tool_calls:
            d["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            d["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            d["name"] = self.name
        for flag in ("cancelled", "is_error", "pinned"):
            if getattr(self, flag):
                d[flag] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        role = d.get("role")
        if role not in ROLES:
            raise ValueError(f"unknown message role {role!r}")
        calls = tuple(ToolCall.from_dict(c) for c in d.get("tool_calls") or () if isinstance(c, dict))
        return cls(
            role=role,
            content=str(d.get("content") or ""),
            reasoning=str(d.get("reasoning") or ""),
            tool_calls=calls,
            tool_call_id=d.get("tool_call_id"),
            name=d.get("name"),
            cancelled=bool(d.get("cancelled", False)),
            is_error=bool(d.get("is_error", False)),
            pinned=bool(d.get("pinned", False)),
        )


def user(text: str) -> Message:
    return Message(role="user", content=text)


def system(text: str) -> Message:
    return Message(role="system", content=text)


def assistant(text: str, tool_calls: tuple[ToolCall, ...] = (), reasoning: str = "") -> Message:
    return Message(role="assistant", content=text, tool_calls=tool_calls, reasoning=reasoning)


def tool_result(call: ToolCall, content: str, is_error: bool = False) -> Message:
    return Message(role="tool", content=content, tool_call_id=call.id, name=call.name,
                   is_error=is_error)
