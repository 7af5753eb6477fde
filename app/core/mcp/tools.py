"""An MCP server's tool as a Nanobot tool: ``NAME__tool``, its schema, validation and results.

What a server says about its tools is untrusted: descriptions are capped, ``readOnlyHint`` and
the like are ignored (the policy in the config decides, ``ask`` by default), and arguments are
validated against the tool's JSON schema with ``jsonschema`` before the user is asked or the
server called, so the model gets a precise error for a bad call instead of a round trip.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.core.mcp.connection import McpConnection, RemoteTool
from app.core.mcp.settings import tool_name
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult

MAX_DESCRIPTION = 1000  # characters of a server's tool description the model sees


def model_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema the model is shown: an object, without the ``title`` keys generators add to
    every property (tokens a small window cannot spare). Validation uses the full schema."""
    out = {k: v for k, v in schema.items() if k not in ("title", "$schema")}
    out["type"] = "object"
    props = out.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: ({kk: vv for kk, vv in v.items() if kk != "title"}
                                 if isinstance(v, dict) else v) for k, v in props.items()}
    else:
        out["properties"] = {}
    return out


def validation_problem(schema: dict[str, Any], args: dict[str, Any]) -> str:
    """The most relevant ``jsonschema`` error for ``args`` ("" when they are valid; a schema the
    validator itself cannot read is left to the server)."""
    try:
        import jsonschema
        from jsonschema.exceptions import SchemaError
    except ImportError:
        return ""
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)
        errors = sorted(validator.iter_errors(args), key=lambda e: e.path)
    except (SchemaError, Exception):
        return ""
    if not errors:
        return ""
    best = jsonschema.exceptions.best_match(errors)
    where = ".".join(str(p) for p in best.absolute_path)
    props = ", ".join(schema.get("properties", {}) or {}) or "none"
    return (f"invalid arguments{f' at {where!r}' if where else ''}: {best.message}. "
            f"Expected arguments: {props}")


def render_result(result: Any) -> tuple[str, bool]:
    """``(text, is_error)`` of a ``CallToolResult``: text parts as they are, other content
    described in one line, structured content as JSON when there is no text."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(getattr(block, "data", "") or "") * 3 // 4
            parts.append(f"[{kind}: {getattr(block, 'mime_type', '?')}, about {size:,} bytes; "
                         "not shown]")
        elif kind == "resource":
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(text if isinstance(text, str)
                         else f"[resource {res.uri} ({getattr(res, 'mime_type', '') or 'binary'})]")
        elif kind == "resource_link":
            parts.append(f"[link: {getattr(block, 'name', '')} {block.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, indent=1))
    text = "\n".join(p for p in parts if p) or "(no output)"
    return text, bool(getattr(result, "is_error", False))


class McpTool:
    """A tool of one server. ``policy`` is what the permission gate asks unless
    ``[permissions] tools`` names this tool."""

    def __init__(self, conn: McpConnection, remote: RemoteTool, policy: str) -> None:
        self.conn = conn
        self.remote = remote
        self.policy = policy
        self.server = conn.name
        desc = " ".join(remote.description.split())
        if len(desc) > MAX_DESCRIPTION:
            desc = desc[:MAX_DESCRIPTION] + "…"
        self.spec = ToolSpec(
            name=tool_name(conn.name, remote.name),
            description=f"[MCP {conn.name}] {desc}".strip(),
            parameters=model_schema(remote.input_schema),
            keywords=(conn.name, remote.name),
        )

    def label(self, args: dict[str, Any]) -> str:
        shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)[:40]}" for k, v in args.items())
        return f"MCP {self.server}: {self.remote.name}({shown})"

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        cfg = self.conn.config
        return (f"MCP server {self.server!r} ({cfg.transport}: {cfg.describe()})\n"
                f"tool: {self.remote.name}\n"
                f"arguments: {json.dumps(args, ensure_ascii=False, indent=1)}")

    def validate(self, args: dict[str, Any]) -> str:
        return validation_problem(self.remote.input_schema, args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            result = await self.conn.call(self.remote.name, args)
        except ConnectionError as exc:
            raise ToolError(str(exc)) from exc
        except TimeoutError as exc:
            raise ToolError(f"MCP server {self.server!r} did not answer {self.remote.name} within "
                            f"{self.conn.config.call_timeout:g} s") from exc
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an MCPError, a transport failure
            raise ToolError(f"MCP server {self.server!r} failed on {self.remote.name}: "
                            f"{type(exc).__name__}: {exc}") from exc
        text, is_error = render_result(result)
        return ToolResult(text, is_error=is_error,
                          meta={"mcp_server": self.server, "mcp_tool": self.remote.name})
