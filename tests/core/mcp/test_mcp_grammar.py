"""A tool whose argument schema the grammar builder cannot express falls back to plain JSON for
that tool; the other tools keep their exact grammar."""

from __future__ import annotations

import json

import pytest

from app.core.providers.base import ToolSpec
from app.core.providers.grammar import expressible, tool_or_text_gbnf, tools_schema

UNEXPRESSIBLE = [
    {"type": "object", "properties": {"x": {"not": {"type": "string"}}}},
    {"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}},
    {"type": "object", "properties": {"x": {"type": "string", "pattern": "(?<=a)b"}}},
]
PLAIN = ToolSpec("read_file", "read", {"type": "object", "properties": {"path": {"type": "string"}},
                                        "required": ["path"]})


@pytest.mark.parametrize("schema", UNEXPRESSIBLE)
def test_a_schema_the_builder_refuses_gets_any_object_and_the_grammar_still_builds(
        schema: dict[str, object]) -> None:
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    with pytest.raises(Exception):  # noqa: B017 - the builder's own failure, whatever its type
        json_schema_to_gbnf(json.dumps(schema))
    odd = ToolSpec("srv__odd", "odd", schema)
    assert not expressible({**schema, "additionalProperties": False})
    both = tools_schema((PLAIN, odd))
    variants = {v["properties"]["name"]["const"]: v for v in both["oneOf"]}
    assert variants["srv__odd"]["properties"]["arguments"] == {"type": "object"}
    assert variants["read_file"]["properties"]["arguments"]["properties"] == {
        "path": {"type": "string"}}
    LlamaGrammar.from_string(tool_or_text_gbnf((PLAIN, odd)), verbose=False)
