from __future__ import annotations

from app.core.agent.messages import Message, ToolCall, assistant, tool_result, user
from app.core.wire.render import INTERRUPTED, to_openai


def test_orphan_and_duplicate_results_dropped_missing_results_added() -> None:
    a = ToolCall("c1", "read_file", {"path": "x"})
    b = ToolCall("c2", "list_dir", {})
    history = [
        user("hi"),
        Message(role="tool", content="orphan", tool_call_id="zz", name="read_file"),
        assistant("", (a, b)),
        tool_result(a, "content"),
        tool_result(a, "duplicate"),
        user("next"),
    ]
    out = to_openai(history)
    tools = [m for m in out if m["role"] == "tool"]
    assert [t["tool_call_id"] for t in tools] == ["c1", "c2"]
    assert tools[0]["content"] == "content"
    assert tools[1]["content"] == INTERRUPTED
    assert all(m.get("content") != "orphan" for m in out)


def test_text_mode_keeps_arguments() -> None:
    a = ToolCall("c1", "read_file", {"path": "app.py"})
    out = to_openai([user("q"), assistant("", (a,)), tool_result(a, "x")], native_tools=False)
    assert '"path": "app.py"' in out[1]["content"]
    assert "tool_calls" not in out[1]
