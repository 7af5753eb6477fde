"""A provider whose replies are enqueued in advance: for UI and loop tests, and for demos."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import ToolCall, new_call_id
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)


@dataclass
class ScriptedReply:
    """One reply: text pieces streamed in order, optional reasoning, tool calls, or an error."""

    chunks: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    error: ProviderError | None = None
    # When set, streaming pauses before this chunk index until the gate is released.
    gate_at: int | None = None
    gate: asyncio.Event | None = None

    @classmethod
    def text(cls, text: str, *, piece: int = 4) -> ScriptedReply:
        return cls(chunks=[text[i:i + piece] for i in range(0, len(text), piece)] or [""])

    @classmethod
    def call(cls, name: str, **arguments: object) -> ScriptedReply:
        return cls(tool_calls=[ToolCall(id=new_call_id(), name=name, arguments=dict(arguments))])


class ScriptedProvider:
    name = "scripted"

    def __init__(self, replies: Iterable[ScriptedReply | str] = (), *, model: str = "scripted",
                 context_window: int = 8192, supports_thinking: bool = True,
                 delay: float = 0.0) -> None:
        self.model = model
        self.capabilities = Capabilities(supports_tools=True, native_tool_calls=True,
                                         supports_thinking=supports_thinking,
                                         context_window=context_window)
        self.replies: deque[ScriptedReply] = deque()
        self.requests: list[ProviderRequest] = []
        # Set whenever a request arrives, so tests await it instead of polling.
        self.request_seen = asyncio.Event()
        self.delay = delay
        # Set by each stream() call: how many chunks it yielded after cancellation (expect 0).
        self.chunks_after_cancel = 0
        for r in replies:
            self.enqueue(r)

    def enqueue(self, reply: ScriptedReply | str) -> None:
        self.replies.append(ScriptedReply.text(reply) if isinstance(reply, str) else reply)

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        self.request_seen.set()
        reply = self.replies.popleft() if self.replies else ScriptedReply.text("(no scripted reply)")
        if reply.error is not None:
            raise reply.error
        produced = 0
        if request.thinking:
            for r in reply.reasoning:
                yield ReasoningChunk(r)
        for i, piece in enumerate(reply.chunks):
            if reply.gate is not None and reply.gate_at == i:
                waiter = asyncio.ensure_future(cancel.wait())
                gate = asyncio.ensure_future(reply.gate.wait())
                await asyncio.wait({waiter, gate}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                gate.cancel()
            if cancel.cancelled:
                return
            if self.delay:
                await asyncio.sleep(self.delay)
            else:
                await asyncio.sleep(0)
            if cancel.cancelled:
                return
            produced += len(piece)
            if piece:
                yield TextChunk(piece)
        for call in reply.tool_calls:
            yield ToolCallChunk(call)
        # Like a server, it counts the tool specs it was sent as part of the prompt.
        tools = sum(len(t.name) + len(t.description) + len(str(t.parameters))
                    for t in request.tools)
        yield UsageChunk(prompt_tokens=(sum(len(m.content) for m in request.messages) + tools) // 4,
                         completion_tokens=max(1, produced // 4))
        yield FinishChunk("tool_calls" if reply.tool_calls else "stop")

    async def aclose(self) -> None:
        return None
