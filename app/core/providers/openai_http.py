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
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx

from app.core.agent.cancel import CancelToken
from app.core.providers.base import (
    Capabilities,
    NoticeChunk,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
)
from app.core.providers.openai_stream import RETRYABLE, ReplyAssembler, StreamLimits, malformed
from app.core.providers.sse import SSEDecoder
from app.core.wire.render import to_openai

MAX_JSON_BYTES = 16 * 1024 * 1024
JSON_TYPES = ("application/json", "text/json")
SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:", b":")


def _sniff(ctype: str, head: bytes) -> str:
    """What a body with this content type is: "sse", "json", "other" or "" (read more first).

    Some servers send an event stream under the wrong type (text/plain, application/json): the
    first line decides, so their replies are read instead of refused.
    """
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        return ""
    if text.startswith(SSE_FIELDS):
        return "sse"
    if ctype in JSON_TYPES or text[:1] in (b"{", b"["):
        return "json"
    return "other"


def _snippet(data: bytes | bytearray) -> str:
    text = " ".join(bytes(data[:400]).decode("utf-8", "replace").split())
    return repr(text[:160])


class _Clock:
    """Time since the request or the last byte, against the first-byte and idle limits."""

    def __init__(self, limits: StreamLimits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.any = False
        self.next_notice = limits.notice_after_s

    def waited(self) -> float:
        return time.monotonic() - self.started

    def limit(self) -> float:
        return self.limits.idle_s if self.any else self.limits.first_byte_s

    def received(self) -> None:
        self.any = True
        self.started = time.monotonic()
        self.next_notice = self.limits.notice_after_s

    def noticed(self) -> None:
        self.next_notice = self.waited() + max(30.0, self.limits.notice_after_s)


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
                 native_tool_calls: bool = True, limits: StreamLimits | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.capabilities = Capabilities(
            supports_tools=True, native_tool_calls=native_tool_calls, grammar_tool_calls=False,
            supports_thinking=supports_thinking, context_window=context_window)
        self.limits = limits or StreamLimits()
        # Reads wait as long as the stream limits say (with notices meanwhile), not httpx.
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(None, connect=10.0, write=30.0, pool=10.0))

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
            if request.answer_only:  # the tools stay in the prompt (cached); calls are off
                body["tool_choice"] = "none"
            elif len(request.callable) == 1:
                body["tool_choice"] = {"type": "function",
                                       "function": {"name": request.callable[0]}}
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
        req = self._client.build_request("POST", f"{self.base_url}/chat/completions", json=body,
                                         headers=self._headers())
        cancel_task = asyncio.ensure_future(cancel.wait())
        clock = _Clock(self.limits)
        send: asyncio.Future[httpx.Response] = asyncio.ensure_future(
            self._client.send(req, stream=True))
        resp: httpx.Response | None = None
        try:
            async for notice in self._wait(send, cancel_task, clock, "an answer"):
                yield notice
            if cancel.cancelled:
                return
            resp = send.result()
            if resp.status_code >= 400:
                await self._raise_for(resp)
            async for ev in self._reply(resp, request, cancel, cancel_task, clock):
                yield ev
        except httpx.HTTPError as exc:
            if cancel.cancelled:
                return
            # A refused connection means the server is gone: the next provider, at once. A read
            # that failed mid-reply (reset, protocol error) is worth another try on this one.
            gone = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            raise ProviderError(f"{self.name}: {type(exc).__name__}: {exc}", retryable=True,
                                transient=not gone) from exc
        finally:
            if not send.done():
                send.cancel()
                with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                    await send
            if resp is None and send.done() and not send.cancelled() and not send.exception():
                resp = send.result()  # answered just as the wait ended: close it all the same
            if resp is not None:
                await resp.aclose()
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

    async def _wait(self, fut: asyncio.Future[Any], cancel_task: asyncio.Future[None],
                    clock: _Clock, what: str) -> AsyncIterator[NoticeChunk]:
        """Wait for ``fut`` (or a cancel); say so while it takes long; give up at the limit."""
        while not fut.done() and not cancel_task.done():
            limit, waited = clock.limit(), clock.waited()
            if waited >= limit:
                fut.cancel()
                raise ProviderError(f"{self.name}: no data for {waited:.0f} s while waiting for "
                                    f"{what} (limit {limit:g} s)", retryable=True,
                                    transient=True)
            timeout = max(0.0, min(limit, clock.next_notice) - waited)
            await asyncio.wait({fut, cancel_task}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            if not fut.done() and not cancel_task.done() and clock.waited() >= clock.next_notice:
                clock.noticed()
                yield NoticeChunk(f"waiting for {self.name}: nothing received for "
                                  f"{clock.waited():.0f} s (gives up after {limit:g} s)",
                                  level="info")
        if not fut.done():  # cancelled
            fut.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration,
                                     httpx.HTTPError):
                await fut

    async def _bytes(self, resp: httpx.Response, cancel_task: asyncio.Future[None],
                     clock: _Clock) -> AsyncGenerator[bytes | NoticeChunk, None]:
        it = resp.aiter_bytes().__aiter__()
        while True:
            nxt: asyncio.Future[bytes] = asyncio.ensure_future(it.__anext__())
            async for notice in self._wait(nxt, cancel_task, clock, "the rest of the reply"):
                yield notice
            if cancel_task.done():
                return
            try:
                data = nxt.result()
            except StopAsyncIteration:
                return
            clock.received()
            yield data

    async def _reply(self, resp: httpx.Response, request: ProviderRequest, cancel: CancelToken,
                     cancel_task: asyncio.Future[None],
                     clock: _Clock) -> AsyncIterator[ProviderEvent]:
        reply = ReplyAssembler(self.name, request.max_tokens, allow_empty=request.allow_empty)
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        decoder = SSEDecoder()
        kind = "sse" if ctype == "text/event-stream" else ""
        body = bytearray()  # a whole JSON reply, or the head of a body being sniffed
        async with contextlib.aclosing(self._bytes(resp, cancel_task, clock)) as pieces:
            async for piece in pieces:
                if isinstance(piece, NoticeChunk):
                    yield piece
                    continue
                if not kind:
                    body += piece
                    kind = _sniff(ctype, bytes(body))
                    if not kind:
                        continue
                    piece, body = bytes(body), bytearray()
                if kind == "other":
                    raise ProviderError(
                        f"{self.name} answered {ctype or 'without a content type'}, not an "
                        f"event stream: {_snippet(piece)}", retryable=True)
                if kind == "json":
                    body += piece
                    if len(body) > MAX_JSON_BYTES:
                        raise malformed(self.name, f"a JSON reply over {MAX_JSON_BYTES:,} bytes")
                    continue
                for event in decoder.feed(piece):
                    for ev in reply.data(event.data):
                        yield ev
                    if reply.done or reply.overflow:
                        break
                if reply.done or reply.overflow:
                    break
        if cancel.cancelled:
            return
        if kind == "json" or (not kind and ctype in JSON_TYPES):
            try:
                obj = json.loads(bytes(body))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise malformed(self.name, f"an unreadable JSON reply: {_snippet(body)}") from None
            for ev in reply.completion(obj):
                yield ev
        elif not kind and body.strip():
            raise ProviderError(f"{self.name} answered {ctype or 'without a content type'}, not "
                                f"an event stream: {_snippet(body)}", retryable=True)
        elif not reply.done and not reply.overflow:
            pending = decoder.close()  # a last event the server did not end with a blank line
            if pending is not None:
                for ev in reply.data(pending.data):
                    yield ev
        for ev in reply.end():
            yield ev

    async def aclose(self) -> None:
        await self._client.aclose()
