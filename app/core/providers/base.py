"""The provider contract: ``stream(request, cancel) -> AsyncIterator[ProviderEvent]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, ToolCall
from app.core.wire.template_caps import TemplateCaps


@dataclass(frozen=True)
class ToolSpec:
    """What the model is told about a tool: name, description and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    # Words that, in the user's request, make a small model's step offer this tool (an MCP
    # server's name, a skill's name); never sent to the model.
    keywords: tuple[str, ...] = ()

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description,
                             "parameters": self.parameters}}


@dataclass(frozen=True)
class Capabilities:
    """What a provider/model can do; the loop reads these instead of sniffing model names."""

    supports_tools: bool = True
    native_tool_calls: bool = False
    # Free-form tool calls are unreliable: constrain output with a grammar (in-process only).
    grammar_tool_calls: bool = False
    supports_thinking: bool = False
    context_window: int = 8192
    # Small models re-call tools instead of answering; remind them after tool results.
    tool_nudge: bool = False
    # The model reasons before every answer whatever it is told (catalog quirk); the loop then
    # sends ``think_prefill`` (an empty reasoning block) when thinking is off.
    always_reasons: bool = False
    think_prefill: str = ""
    # What the chat template accepts, found by test-rendering it (permissive when unknown).
    template: TemplateCaps = field(default_factory=TemplateCaps)
    # Small models choose worse among many tools: offer these plus what the request asks for
    # (see tool_selection). Empty = every tool.
    core_tools: tuple[str, ...] = ()
    # A small model (catalog): the harness votes on its small decisions.
    small: bool = False


@dataclass(frozen=True)
class ProviderRequest:
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    thinking: bool = False
    thinking_budget: int | None = None
    # The harness wants a plain answer now (after a repeated call): no tool-call output allowed.
    answer_only: bool = False
    # Text the assistant turn starts with (e.g. an empty think block); the model continues it.
    prefill: str = ""
    # An empty reply is a valid result (raw sampling, where it is judged like any sample);
    # otherwise an HTTP provider treats it as a failure, so the fallback chain takes over.
    allow_empty: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # The tools this step may call, when fewer than the ``tools`` shown (empty = all of them):
    # the prompt keeps the full list, so its cached prefix holds, and the call is limited.
    callable: tuple[str, ...] = ()

    def callable_tools(self) -> tuple[ToolSpec, ...]:
        if not self.callable:
            return self.tools
        return tuple(t for t in self.tools if t.name in self.callable) or self.tools


# --- what a provider yields -------------------------------------------------------------------


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ReasoningChunk:
    text: str


@dataclass(frozen=True)
class ToolCallChunk:
    """A complete tool call (native ``tool_calls``, or one decoded under a grammar)."""

    call: ToolCall


@dataclass(frozen=True)
class UsageChunk:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class FinishChunk:
    reason: str = "stop"


@dataclass(frozen=True)
class NoticeChunk:
    """Something the user should see in the conversation: a retry, a fallback, a route.

    ``restart`` means: discard what this stream yielded so far, a fresh attempt follows (a
    provider died mid-reply and another one starts the reply again).
    """

    text: str
    level: str = "warning"
    restart: bool = False


ProviderEvent = (TextChunk | ReasoningChunk | ToolCallChunk | UsageChunk | FinishChunk
                 | NoticeChunk)


class ProviderError(Exception):
    """A provider failed; ``retryable`` says whether trying again (or elsewhere) may help.

    ``transient`` marks a failure without a status that the same provider may well not repeat (a
    connection reset mid-reply, a stall, a stream cut short): it is retried there first.
    """

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None,
                 retry_after: float | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable or transient
        self.status = status
        self.retry_after = retry_after
        self.transient = transient


@runtime_checkable
class Provider(Protocol):
    name: str
    model: str
    capabilities: Capabilities

    def stream(self, request: ProviderRequest, cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        """Yield events until the reply ends or ``cancel`` fires (then stop promptly, no error)."""
        ...

    async def aclose(self) -> None: ...
