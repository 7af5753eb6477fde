"""The OpenAI-compatible provider against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import user
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import (
    ProviderError,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools
from tests.servers import llama_server, sse, sse_server


async def collect(p: OpenAIHTTPProvider, req: ProviderRequest) -> list[object]:
    return [ev async for ev in p.stream(req, CancelToken())]


async def test_reasoning_think_tags_and_tool_call_fragments() -> None:
    def respond(body: dict[str, object]) -> tuple[int, dict[str, str], list[str]]:
        return 200, {}, [
            sse({"reasoning_content": "plan "}),
            sse({"content": "<thi"}), sse({"content": "nk>more</th"}),
            sse({"content": "ink>Hello"}),
            sse({"tool_calls": [{"index": 0, "id": "c9", "function": {"name": "read_",
                                                                      "arguments": '{"pa'}}]}),
            sse({"tool_calls": [{"index": 0, "function": {"name": "file",
                                                          "arguments": 'th": "a.py"}'}}]}),
            "data: " + json.dumps({"choices": [], "usage": {"prompt_tokens": 11,
                                                            "completion_tokens": 5}}),
            "data: [DONE]",
        ]

    with sse_server(respond) as (base, seen):
        p = OpenAIHTTPProvider(base, "m", supports_thinking=True)
        tools = tuple(t.spec for t in default_tools())
        events = await collect(p, ProviderRequest(messages=(user("hi"),), tools=tools,
                                                  thinking=False))
        await p.aclose()
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningChunk))
    assert reasoning == "plan more"
    assert "".join(e.text for e in events if isinstance(e, TextChunk)) == "Hello"
    call = next(e.call for e in events if isinstance(e, ToolCallChunk))
    assert (call.id, call.name, call.arguments) == ("c9", "read_file", {"path": "a.py"})
    assert any(isinstance(e, UsageChunk) and e.prompt_tokens == 11 for e in events)
    body = seen[0]
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["tools"][0]["function"]["name"] == "read_file"  # type: ignore[index]


async def test_auth_error_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_KEY", "sk-test-123456789")
    with sse_server(lambda body: (401, {}, ['{"error": "bad key"}'])) as (base, seen):
        p = OpenAIHTTPProvider(base, "m", api_key_env="LAB_KEY", name="lab")
        with pytest.raises(ProviderError) as info:
            await collect(p, ProviderRequest(messages=(user("hi"),)))
        await p.aclose()
    assert "LAB_KEY" in str(info.value) and not info.value.retryable
    assert seen[0]["_headers"]["Authorization"] == "Bearer sk-test-123456789"  # type: ignore[index]


async def test_rate_limit_is_retryable_with_retry_after() -> None:
    with sse_server(lambda body: (429, {"Retry-After": "3"}, ["slow down"])) as (base, _):
        p = OpenAIHTTPProvider(base, "m")
        with pytest.raises(ProviderError) as info:
            await collect(p, ProviderRequest(messages=(user("hi"),)))
        await p.aclose()
    assert info.value.retryable and info.value.retry_after == 3.0 and info.value.status == 429


@pytest.fixture(scope="module")
def real_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(model_path, log=tmp_path_factory.mktemp("srv") / "server.log") as base:
        yield base


@pytest.mark.model
async def test_real_llama_cpp_server_streams_an_answer(real_server: str) -> None:
    p = OpenAIHTTPProvider(real_server, "qwen", native_tool_calls=False)
    events = await collect(p, ProviderRequest(
        messages=(user("What is 17*3? Reply with the number only."),), max_tokens=16,
        temperature=0.0))
    await p.aclose()
    assert "51" in "".join(e.text for e in events if isinstance(e, TextChunk))


@pytest.mark.model
async def test_real_server_cancel_mid_stream(real_server: str, tmp_path: Path) -> None:
    p = OpenAIHTTPProvider(real_server, "qwen", native_tool_calls=False)
    session = Session(p, tools=ToolRegistry(), options=SessionOptions(workspace=tmp_path,
                                                                      max_tokens=300))
    got = asyncio.Event()
    count = 0

    def on(ev: object) -> None:
        nonlocal count
        if type(ev).__name__ == "TextDelta":
            count += 1
            if count >= 5:
                got.set()

    session.add_listener(on)
    task = asyncio.create_task(session.run_turn("Count from 1 to 200, comma separated."))
    await got.wait()
    session.cancel()
    outcome = await task
    await p.aclose()
    assert outcome.status == "cancelled" and outcome.text


@pytest.mark.model
async def test_real_server_tool_loop_in_text_mode(real_server: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("The meeting moved to Thursday.\n")
    p = OpenAIHTTPProvider(real_server, "qwen", native_tool_calls=False)
    session = Session(p, tools=ToolRegistry(default_tools()),
                      options=SessionOptions(workspace=tmp_path, max_tokens=120,
                                             temperature=0.0))
    names: list[str] = []
    session.add_listener(lambda ev: names.append(ev.name)
                         if type(ev).__name__ == "ToolCallStarted" else None)  # type: ignore[attr-defined]
    await session.run_turn('Call read_file on notes.txt: reply with only '
                           '{"name": "read_file", "arguments": {"path": "notes.txt"}}')
    await p.aclose()
    assert "read_file" in names
