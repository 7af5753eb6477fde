"""Tool calls that small models really write and strict JSON refuses are still read.

Each reply below lost its call before json-repair became the last step of lenient parsing; the
bounds are tested too: prose is never turned into a call, and a reply cut by the token limit is
never "repaired" by it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import FinishChunk, ProviderEvent, ProviderRequest
from app.core.providers.scripted import ScriptedProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools
from app.core.wire.tool_calls import loads_lenient, parse_tool_calls

KNOWN = {"read_file", "write_file", "grep", "list_dir"}

WRITE = ('{"name": "write_file", "arguments": {"path": "a.py", '
         '"content": "def f():\n    return 1\n"}}')


def _one(text: str, **kw: bool) -> tuple[str, dict[str, object]]:
    r = parse_tool_calls(text, KNOWN, **kw)
    assert len(r.calls) == 1, (r.calls, r.errors)
    return r.calls[0].name, r.calls[0].arguments


def test_literal_newline_inside_a_string_keeps_the_content_exactly() -> None:
    assert _one(WRITE) == ("write_file", {"path": "a.py", "content": "def f():\n    return 1\n"})
    tagged = f"<tool_call>{WRITE}</tool_call>"
    assert _one(tagged)[1]["content"] == "def f():\n    return 1\n"


def test_backslash_d_in_a_grep_pattern() -> None:
    assert _one('{"name": "grep", "arguments": {"pattern": "\\d+ items", "path": "."}}') == (
        "grep", {"pattern": "\\d+ items", "path": "."})


def test_python_literals() -> None:
    name, args = _one('```json\n{"name": "list_dir", "arguments": {"path": ".", "all": True, '
                      '"depth": None}}\n```')
    assert name == "list_dir" and args == {"path": ".", "all": True, "depth": None}


def test_unquoted_keys() -> None:
    assert _one('{name: "read_file", arguments: {path: "a.py"}}') == (
        "read_file", {"path": "a.py"})


def test_missing_comma() -> None:
    assert _one('<tool_call>{"name": "read_file" "arguments": {"path": "a.py"}}</tool_call>') == (
        "read_file", {"path": "a.py"})


def test_a_call_followed_by_prose() -> None:
    assert _one('{"name": "read_file", "arguments": {"path": "a.py"}} Now I will read it.') == (
        "read_file", {"path": "a.py"})


def test_prose_is_never_turned_into_a_call() -> None:
    for text in ("I will read the file now.", "Use {braces} like this: {name: x}",
                 "The answer is 42.\nname: read_file"):
        r = parse_tool_calls(text, KNOWN)
        assert r.calls == () and r.text == text
    # JSON the user asked for that is not a call stays an answer.
    pkg = '{"name": "my-package", "version": "1.0.0"}'
    assert parse_tool_calls(pkg, KNOWN).calls == ()


def test_a_reply_cut_by_the_token_limit_is_not_repaired_by_json_repair() -> None:
    # Python literals need json-repair; a cut reply must not get it.
    cut = '{"name": "list_dir", "arguments": {"path": ".", "all": True'
    assert parse_tool_calls(cut, KNOWN).calls  # a reply that simply ended is read
    r = parse_tool_calls(cut, KNOWN, cut=True)
    assert r.calls == () and r.errors
    with pytest.raises(ValueError):
        loads_lenient('{"a": True}', cut=True)
    assert loads_lenient('{"a": True}') == {"a": True}


def test_json_repair_only_reads_text_that_starts_like_json() -> None:
    with pytest.raises(ValueError):
        loads_lenient("name: read_file")


class _CutProvider(ScriptedProvider):
    """Replies end as the model left them, with the finish reason the test gives."""

    def __init__(self, text: str, finish: str) -> None:
        super().__init__([text])
        self.finish = finish

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        async for chunk in super().stream(request, cancel):
            yield FinishChunk(self.finish) if isinstance(chunk, FinishChunk) else chunk


@pytest.mark.parametrize("finish, runs", [("stop", True), ("length", False)])
async def test_the_loop_does_not_run_a_call_json_repair_would_have_to_finish(
        tmp_path: Path, finish: str, runs: bool) -> None:
    (tmp_path / "a.txt").write_text("x")
    reply = '{"name": "list_dir", "arguments": {"path": ".", "all": True}} and more'
    if finish == "length":
        reply = '{"name": "list_dir", "arguments": {"path": ".", "all": True'
    session = Session(_CutProvider(reply, finish), tools=ToolRegistry(default_tools()),
                      options=SessionOptions(workspace=tmp_path, max_parse_failures=1))
    events: list[Event] = []
    session.add_listener(events.append)
    await session.run_turn("list the files")
    ran = [e for e in events if isinstance(e, ToolCallStarted)]
    assert bool(ran) is runs
