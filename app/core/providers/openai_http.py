"""OpenAI-compatible chat completions over HTTP with server-sent events.

Works against llama.cpp's server, ``python -m llama_cpp.server``, Ollama, LM Studio, vLLM, OpenAI and
OpenRouter. Reasoning arrives as ``reasoning_content`` (or ``reasoning``) deltas or inside
``<think>`` tags split across deltas; native ``tool_calls`` are assembled from their fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

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
from app.core.wire.render import to_openai
from app.core.wire.think import ThinkSplitter
from app.core.wire.tool_calls import loads_lenient

RETRYABLE = {408, 409, 425, 429, 500, 502, 503, 504}


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class OpenAIHTTPProvider:
    def __init__(self, base_url: str, model: str, *, api_key_env: str = "", name: str = "openai",
                 context_window: int = 32768, supports_thinking: bool = False,
                 native_tool_calls: bool = True, timeout: float = 120.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.capabilities = Capabilities(
            supports_tools=True, native_tool_calls=native_tool_calls, grammar_tool_calls=False,
            supports_thinking=supports_thinking, context_window=context_window)
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0))

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def build_body(self, request: ProviderRequest) -> dict[str, Any]:
        native = self.capabilities.native_tool_calls
        messages = to_openai(request.messages, native_tools=native)
        if request.prefill:  # llama.cpp's server continues a trailing assistant message
            messages.append({"role": "assistant", "content": request.prefill})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools and native:
            body["tools"] = [t.to_openai() for t in request.tools]
        if request.max_tokens:
            body["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if self.capabilities.supports_thinking:
            # llama.cpp and vLLM read chat_template_kwargs; OpenAI-style servers read effort.
            body["chat_template_kwargs"] = {"enable_thinking": request.thinking}
            if request.thinking and request.thinking_budget:
                body["reasoning_budget"] = request.thinking_budget
        body.update(request.extra)
        return body

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        body = self.build_body(request)
        url = f"{self.base_url}/chat/completions"
        cancel_task = asyncio.ensure_future(cancel.wait())
        try:
            async with self._client.stream("POST", url, json=body,
                                           headers=self._headers()) as resp:
                if resp.status_code >= 400:
                    await self._raise_for(resp)
                async for ev in self._events(resp, cancel, cancel_task):
                    yield ev
        except httpx.HTTPError as exc:
            if cancel.cancelled:
                return
            raise ProviderError(f"{self.name}: {type(exc).__name__}: {exc}",
                                retryable=True) from exc
        finally:
            cancel_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cancel_task

    async def _raise_for(self, resp: httpx.Response) -> None:
        text = (await resp.aread()).decode("utf-8", "replace")[:500]
        status = resp.status_code
        if status in (401, 403):
            hint = (f"; set the environment variable {self.api_key_env}" if self.api_key_env
                    else "; configure api_key_env for this provider")
            raise ProviderError(f"{self.name} refused the request ({status}){hint}",
                                status=status)
        raise ProviderError(f"{self.name} answered {status}: {text}", status=status,
                            retryable=status in RETRYABLE, retry_after=_retry_after(resp))

    async def _lines(self, resp: httpx.Response, cancel_task: asyncio.Future[None]
                     ) -> AsyncIterator[str]:
        it = resp.aiter_lines().__aiter__()
        while True:
            nxt: asyncio.Future[str] = asyncio.ensure_future(it.__anext__())
            waiting: set[asyncio.Future[Any]] = {nxt, cancel_task}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if nxt not in done:
                nxt.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await nxt
                return
            try:
                yield nxt.result()
            except StopAsyncIteration:
                return

    async def _events(self, resp: httpx.Response, cancel: CancelToken,
                      cancel_task: asyncio.Future[None]) -> AsyncIterator[ProviderEvent]:
        splitter = ThinkSplitter()
        calls: dict[int, dict[str, Any]] = {}
        finish = "stop"
        async for line in self._lines(resp, cancel_task):
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError:
                continue
            if chunk.get("error"):
                # Mid-stream errors (OpenRouter, vLLM) carry the HTTP-like status as "code":
                # keep it, so a 429/5xx here is retried like one before the stream started.
                err = chunk["error"]
                code = err.get("code") if isinstance(err, dict) else None
                status = code if isinstance(code, int) and 100 <= code < 600 else None
                if status is None and isinstance(code, str) and code.isdigit():
                    status = int(code)
                raise ProviderError(f"{self.name}: {err}", status=status,
                                    retryable=status is None or status in RETRYABLE)
            usage = chunk.get("usage")
            if usage:
                yield UsageChunk(int(usage.get("prompt_tokens") or 0),
                                 int(usage.get("completion_tokens") or 0))
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning:
                    yield ReasoningChunk(str(reasoning))
                content = delta.get("content")
                if content:
                    visible, thought = splitter.feed(str(content))
                    if thought:
                        yield ReasoningChunk(thought)
                    if visible:
                        yield TextChunk(visible)
                for tc in delta.get("tool_calls") or ():
                    slot = calls.setdefault(int(tc.get("index", len(calls))),
                                            {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.get("id") or slot["id"]
                    fn = tc.get("function") or {}
                    slot["name"] += fn.get("name") or ""
                    slot["arguments"] += fn.get("arguments") or ""
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        if cancel.cancelled:
            return
        rest, thought = splitter.flush()
        if thought:
            yield ReasoningChunk(thought)
        if rest:
            yield TextChunk(rest)
        for _, slot in sorted(calls.items()):
            try:
                args = loads_lenient(slot["arguments"]) if slot["arguments"].strip() else {}
            except ValueError:
                args = {"_raw": slot["arguments"]}
            yield ToolCallChunk(ToolCall(id=slot["id"] or new_call_id(), name=slot["name"],
                                         arguments=args if isinstance(args, dict) else {}))
        yield FinishChunk(finish)

    async def aclose(self) -> None:
        await self._client.aclose()
