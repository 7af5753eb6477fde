"""A GBNF grammar that lets a model either call one of the given tools (as JSON) or answer in text.

Small local models write tool calls in whatever shape they like; under this grammar every reply that
starts with ``{`` is a well-formed call to a real tool, and any other reply is free text that streams
as usual.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.core.providers.base import ToolSpec

_EXPRESSIBLE: dict[str, bool] = {}


def expressible(schema: dict[str, Any]) -> bool:
    """Whether the grammar builder can turn ``schema`` into a grammar. MCP servers send schemas
    it cannot (``not``, ``if``/``then``, remote ``$ref``, lookaround patterns)."""
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _EXPRESSIBLE:
        from llama_cpp.llama_grammar import json_schema_to_gbnf

        try:
            json_schema_to_gbnf(json.dumps(schema))
            _EXPRESSIBLE[key] = True
        except Exception:
            _EXPRESSIBLE[key] = False
    return _EXPRESSIBLE[key]


def tools_schema(tools: tuple[ToolSpec, ...]) -> dict[str, Any]:
    """One schema for "a call of one of ``tools``". A tool whose argument schema the grammar
    builder cannot express gets "any JSON object" instead: the grammar still keeps its call
    well-formed JSON, and the loop checks the arguments before the call (plain JSON parsing
    for that tool rather than a failed grammar for every tool)."""
    variants = []
    for t in tools:
        params: dict[str, Any] = (dict(t.parameters) if t.parameters
                                  else {"type": "object", "properties": {}})
        params.setdefault("type", "object")
        params.setdefault("properties", {})
        params["additionalProperties"] = False
        if not expressible(params):
            params = {"type": "object"}
        variants.append({
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": params},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        })
    return variants[0] if len(variants) == 1 else {"oneOf": variants}


# A text answer may not start with "{" (the call branch), a backtick (a fenced JSON call would
# slip past the grammar) or blank space.
ANSWER_RULE = "answer ::= [^{` \\t\\r\\n] [^\\x00]*\n"
ANSWER_ONLY_GBNF = "root ::= answer\n" + ANSWER_RULE


def tool_or_text_gbnf(tools: tuple[ToolSpec, ...]) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    call = json_schema_to_gbnf(json.dumps(tools_schema(tools)))
    call = re.sub(r"^root\s*::=", "call ::=", call, count=1, flags=re.MULTILINE)
    return "root ::= call | answer\n" + ANSWER_RULE + call


def call_only_gbnf(tools: tuple[ToolSpec, ...]) -> str:
    """A grammar under which the whole reply is one well-formed call of one of ``tools``."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(json.dumps(tools_schema(tools))))


def tool_instructions(tools: tuple[ToolSpec, ...]) -> str:
    """Tool instructions for models without native tool calling, with a few short examples.

    Measured on Qwen2.5-Coder-0.5B (bench/toolcalls.py): explicit rules plus examples of both a
    direct answer and a call beat a bare tool list, which made it call a tool for everything.
    """
    lines = ["You can call tools to work with files and run commands in the workspace.", "Tools:"]
    for t in tools:
        props = t.parameters.get("properties", {}) if t.parameters else {}
        required = set(t.parameters.get("required", [])) if t.parameters else set()
        args = ", ".join(f"{k}{'' if k in required else '?'}" for k in props)
        lines.append(f"- {t.name}({args}): {t.description}")
    names = {t.name for t in tools}
    needs = "the contents of a file or folder"
    if "write_file" in names:
        needs += ", creating or changing a file"
    if "exec" in names:
        needs += ", running a command or program"
    lines += [
        "",
        "Rules:",
        f"1. If the request needs a tool ({needs}), reply with only a JSON object: "
        '{"name": "<tool>", "arguments": {...}}. One tool per reply.',
        "2. Otherwise answer directly in plain text. Do not call tools for maths, general "
        "knowledge, or code the user only wants to see in your reply.",
        "",
        "Examples:",
        "User: What is the capital of Japan?",
        "Assistant: Tokyo.",
    ]
    if "read_file" in names:
        lines += ["User: What is in todo.txt?",
                  'Assistant: {"name": "read_file", "arguments": {"path": "todo.txt"}}']
    if "list_dir" in names:
        lines += ["User: Which files are here?",
                  'Assistant: {"name": "list_dir", "arguments": {"path": "."}}']
    if "write_file" in names:
        lines += ["User: Create notes.txt containing buy milk",
                  'Assistant: {"name": "write_file", "arguments": {"path": "notes.txt", '
                  '"content": "buy milk\\n"}}']
    if "exec" in names:
        lines += ["User: Run test.py",
                  'Assistant: {"name": "exec", "arguments": {"command": "python test.py"}}']
    return "\n".join(lines)


def schema_gbnf(schema: dict[str, Any]) -> str:
    """A grammar under which the whole reply is one JSON value of ``schema`` (for structured
    answers through ``ProviderRequest.extra["grammar"]``)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return str(json_schema_to_gbnf(json.dumps(schema)))
