"""The OpenAI-compatible provider sends quirks' prefill as a trailing assistant message and keeps
native tool-call arguments as JSON strings."""

from __future__ import annotations

from app.core.agent.messages import Message, ToolCall
from app.core.providers.base import ProviderRequest
from app.core.providers.openai_http import OpenAIHTTPProvider


async def test_prefill_and_string_arguments() -> None:
    provider = OpenAIHTTPProvider("http://127.0.0.1:9/v1", "m")
    call = ToolCall("c1", "read_file", {"path": "a"})
    body = provider.build_body(ProviderRequest(
        messages=(Message(role="user", content="q"),
                  Message(role="assistant", content="", tool_calls=(call,)),
                  Message(role="tool", content="x", tool_call_id="c1", name="read_file")),
        prefill="<think>\n</think>\n\n"))
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\n</think>\n\n"}
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"path": "a"}'
    await provider.aclose()
