"""Render canonical history into OpenAI chat messages, repairing what would break a template.

This is the permissive renderer used by providers whose templates accept every role (OpenAI-style
servers, Qwen2.5's template). Strict local templates go through :mod:`app.core.thread_repair`.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.messages import Message

INTERRUPTED = "[interrupted: this tool call was not completed]"


def calls_as_text(msg: Message) -> str:
    """Tool calls written as the JSON objects the model itself emits (keeps the arguments)."""
    return "\n".join(
        json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
        for c in msg.tool_calls
    )


def repair_tool_pairs(messages: list[Message]) -> list[Message]:
    """Drop orphan and duplicate tool results; add an "interrupted" result for unanswered calls."""
    answered: set[str] = set()
    out: list[Message] = []
    open_calls: dict[str, Message] = {}

    def close_open() -> None:
        for call_id, owner in open_calls.items():
            call = next(c for c in owner.tool_calls if c.id == call_id)
            out.append(Message(role="tool", content=INTERRUPTED, tool_call_id=call.id,
                               name=call.name, is_error=True))
            answered.add(call_id)
        open_calls.clear()

    for msg in messages:
        if msg.role == "tool":
            cid = msg.tool_call_id or ""
            if cid in open_calls and cid not in answered:
                out.append(msg)
                answered.add(cid)
                del open_calls[cid]
            continue  # orphan or duplicate: dropped
        close_open()
        out.append(msg)
        if msg.role == "assistant":
            for c in msg.tool_calls:
                if c.id not in answered:
                    open_calls[c.id] = msg
    close_open()
    return out


def to_openai(messages: list[Message] | tuple[Message, ...], *, native_tools: bool = True,
              tool_role: bool = True) -> list[dict[str, Any]]:
    """OpenAI chat messages. ``native_tools=False`` writes calls as JSON text in the content."""
    out: list[dict[str, Any]] = []
    for msg in repair_tool_pairs(list(messages)):
        if msg.role == "system":
            out.append({"role": "system", "content": msg.content})
        elif msg.role == "user":
            out.append({"role": "user", "content": msg.content})
        elif msg.role == "notice":
            out.append({"role": "user", "content": f"[System notice] {msg.content}"})
        elif msg.role == "summary":
            out.append({"role": "user", "content": f"[Context summary]\n{msg.content}"})
        elif msg.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": msg.content}
            if msg.tool_calls:
                if native_tools:
                    entry["tool_calls"] = [
                        {"id": c.id, "type": "function",
                         "function": {"name": c.name, "arguments": c.arguments_json()}}
                        for c in msg.tool_calls
                    ]
                else:
                    text = calls_as_text(msg)
                    entry["content"] = f"{msg.content}\n{text}".strip() if msg.content else text
            out.append(entry)
        elif msg.role == "tool":
            if tool_role:
                out.append({"role": "tool", "tool_call_id": msg.tool_call_id, "name": msg.name,
                            "content": msg.content})
            else:
                out.append({"role": "user",
                            "content": f"[Tool result: {msg.name}]\n{msg.content}"})
    return out
