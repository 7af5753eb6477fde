from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.wire.tool_calls import CallStreamFilter, MarkupFilter, loads_lenient, parse_tool_calls

KNOWN = {"read_file", "list_dir"}


def test_tagged_calls_several_per_message() -> None:
    text = ('Let me look.<tool_call>{"name": "list_dir", "arguments": {"path": "."}}</tool_call>'
            '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>')
    r = parse_tool_calls(text, KNOWN)
    assert [c.name for c in r.calls] == ["list_dir", "read_file"]
    assert r.calls[1].arguments == {"path": "a.py"}
    assert r.text == "Let me look."
    assert len({c.id for c in r.calls}) == 2


def test_bare_and_fenced_json() -> None:
    bare = parse_tool_calls('{"name": "read_file", "arguments": {"path": "x"}}', KNOWN)
    assert bare.calls[0].name == "read_file" and bare.text == ""
    fenced = parse_tool_calls('Sure:\n```json\n{"name": "list_dir", "arguments": {}}\n```', KNOWN)
    assert fenced.calls[0].name == "list_dir" and fenced.text == "Sure:"


def test_repairs_trailing_comma_and_truncation() -> None:
    assert loads_lenient('{"a": 1,}') == {"a": 1}
    assert loads_lenient('{"name": "read_file", "arguments": {"path": "x.py"') == {
        "name": "read_file", "arguments": {"path": "x.py"}}
    r = parse_tool_calls('<tool_call>{"name": "read_file", "arguments": {"path": "y"}', KNOWN)
    assert r.calls[0].arguments == {"path": "y"}


def test_string_arguments_and_function_wrapper() -> None:
    r = parse_tool_calls('{"function": {"name": "read_file", "arguments": "{\\"path\\": \\"z\\"}"}}',
                         KNOWN)
    assert r.calls[0].arguments == {"path": "z"}


def test_unparseable_call_is_reported_not_raised() -> None:
    r = parse_tool_calls('{"name"}', KNOWN)
    assert not r.calls and r.errors


def test_plain_json_answer_is_not_a_call() -> None:
    r = parse_tool_calls('{"colour": "red"}', KNOWN)
    assert not r.calls and not r.errors and r.text == '{"colour": "red"}'


def test_markup_hidden_even_when_split() -> None:
    f = MarkupFilter()
    pieces = ["Hi <to", "ol_ca", 'll>{"name":', ' "x"}</tool', "_call> there"]
    assert "".join(f.feed(p) for p in pieces) + f.flush() == "Hi  there"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab<>/{}_tolc \"", max_size=60), st.lists(st.integers(1, 8), max_size=12))
def test_markup_filter_matches_whole_text_for_any_split(body: str, cuts: list[int]) -> None:
    text = f"pre {body} <tool_call>{{}}</tool_call> post"
    f = MarkupFilter()
    out, pos = [], 0
    for c in cuts:
        out.append(f.feed(text[pos:pos + c]))
        pos += c
    out.append(f.feed(text[pos:]))
    out.append(f.flush())
    g = MarkupFilter()
    assert "".join(out) == g.feed(text) + g.flush()


def test_stream_filter_holds_json_until_known() -> None:
    f = CallStreamFilter()
    shown = "".join(f.feed(p) for p in ['{"na', 'me": "list_dir", ', '"arguments": {}}'])
    assert shown == ""
    assert f.finish("") == ""
    g = CallStreamFilter()
    shown = "".join(g.feed(p) for p in ["Hello ", "world"])
    assert shown + g.finish("Hello world") == "Hello world"
