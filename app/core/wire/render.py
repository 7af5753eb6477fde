"""Render canonical history into OpenAI chat messages, repairing what would break a template.

This is the permissive renderer used by providers whose templates accept every role (OpenAI-style
servers, Qwen2.5's template). It is :func:`app.core.wire.thread_repair.render_thread` with a permissive
capability record; strict local templates pass their probed record instead.
"""

from __future__ import annotations

from typing import Any

from app.core.agent.messages import Message
from app.core.wire.template_caps import TemplateCaps
from app.core.wire.thread_repair import INTERRUPTED, calls_as_text, render_thread, repair_tool_pairs

__all__ = ["INTERRUPTED", "calls_as_text", "repair_tool_pairs", "to_openai"]


def to_openai(messages: list[Message] | tuple[Message, ...], *, native_tools: bool = True,
              tool_role: bool = True) -> list[dict[str, Any]]:
    """OpenAI chat messages. ``native_tools=False`` writes calls as JSON text in the content."""
    # The OpenAI wire format carries call arguments as a JSON string.
    caps = TemplateCaps(tool_role=tool_role, tool_role_after_text=tool_role,
                        object_arguments=False)
    return render_thread(messages, caps, native_tools=native_tools)
