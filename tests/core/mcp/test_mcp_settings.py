"""MCP pieces that need no server: the config table, tool names, schema checks, result text, and
what a user sees when the SDK (the optional extra) is not installed."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.agent.events import Event, Notice
from app.core.agent.session import Session, SessionOptions
from app.core.mcp import connection
from app.core.mcp.doctor import mcp_checks
from app.core.mcp.manager import McpManager
from app.core.mcp.settings import McpServerConfig, tool_name
from app.core.mcp.tools import model_schema, render_result, validation_problem
from app.core.providers.scripted import ScriptedProvider
from app.core.settings.config import ConfigError, parse_config


@pytest.mark.parametrize("table, message", [
    ('[mcp_servers.x]\ncommand = "a"\nurl = "http://h"\n', "either command"),
    ('[mcp_servers.x]\n', "either command"),
    ('[mcp_servers."a__b"]\ncommand = "a"\n', "no '__'"),
    ('[mcp_servers.x]\nurl = "ftp://h"\n', "http(s)"),
    ('[mcp_servers.x]\ncommand = "a"\npolicy = "sometimes"\n', "ask, allow or deny"),
    ('[mcp_servers.x]\ncommand = "a"\ntools = { t = "yes" }\n', "ask, allow or deny"),
])
def test_bad_server_tables_are_config_errors(table: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(table)


def test_a_server_table_loads() -> None:
    cfg = parse_config('[mcp_servers.files]\ncommand = "npx"\nargs = ["-y", "srv"]\n'
                       'env = { A = "$HOME" }\ntools = { read = "allow" }\n'
                       '[mcp_servers.web]\nurl = "https://h/mcp"\nbearer_token_env = "WEB_TOKEN"\n')
    files, web = cfg.mcp_servers["files"], cfg.mcp_servers["web"]
    assert files.args == ("-y", "srv") and files.policy_for("read") == "allow"
    assert files.policy_for("write") == "ask" and files.transport == "stdio"
    assert web.transport == "http" and web.bearer_token_env == "WEB_TOKEN"



def test_tool_names_are_safe_function_names() -> None:
    assert tool_name("files", "read_text_file") == "files__read_text_file"
    assert tool_name("gh", "issues.list/all") == "gh__issues_list_all"
    assert len(tool_name("s", "x" * 100)) == 64


def test_the_model_sees_a_lean_schema_and_validation_reads_the_full_one() -> None:
    schema = {"title": "addArguments", "type": "object", "required": ["a"],
              "properties": {"a": {"title": "A", "type": "integer", "minimum": 1}}}
    assert model_schema(schema) == {"type": "object", "required": ["a"],
                                    "properties": {"a": {"type": "integer", "minimum": 1}}}
    assert validation_problem(schema, {"a": 2}) == ""
    assert "0 is less than the minimum of 1" in validation_problem(schema, {"a": 0})
    assert "'a' is a required property" in validation_problem(schema, {})
    assert validation_problem({"type": "nonsense"}, {"a": 1}) == ""  # left to the server


def test_results_become_text() -> None:
    text = SimpleNamespace(type="text", text="hello")
    image = SimpleNamespace(type="image", data="A" * 400, mime_type="image/png")
    resource = SimpleNamespace(type="resource", resource=SimpleNamespace(uri="file:///a", text="A"))
    blob = SimpleNamespace(type="resource", resource=SimpleNamespace(uri="file:///b.bin",
                                                                     mime_type="", text=None))
    result = SimpleNamespace(content=[text, image, resource, blob], structured_content=None,
                             is_error=False)
    out, is_error = render_result(result)
    assert out.splitlines() == ["hello", "[image: image/png, about 300 bytes; not shown]", "A",
                                "[resource file:///b.bin (binary)]"]
    assert not is_error
    only_data = SimpleNamespace(content=[], structured_content={"n": 5}, is_error=True)
    assert render_result(only_data) == ('{\n "n": 5\n}', True)


async def test_without_the_sdk_the_user_is_told_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "sdk_available", lambda: False)
    server = McpServerConfig(command=sys.executable)
    manager = McpManager({"x": server}, tmp_path)
    session = Session(ScriptedProvider(["Fine."]), options=SessionOptions(workspace=tmp_path),
                      hooks=[manager])
    events: list[Event] = []
    session.add_listener(events.append)
    outcome = await session.run_turn("hi")
    assert outcome.text == "Fine."
    warnings = [e.text for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert warnings and "pip install 'nanobot[mcp]'" in warnings[0]
    await manager.aclose()
    monkeypatch.setattr("app.core.mcp.doctor.sdk_available", lambda: False)
    [check] = await mcp_checks({"x": server}, tmp_path)
    assert check[1] == "fail" and "nanobot[mcp]" in check[3]
