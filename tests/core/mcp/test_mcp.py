"""MCP servers in the real loop: a real server (tests/mcp_server.py, the same SDK) over stdio and
streamable HTTP, its tools called from a turn after the permission question.

The model is scripted (it asks for the call); the server, its process, the transport, the
permission gate, argument validation and the tool result are all real.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from app.core.agent.events import Event, Notice, ToolCallFinished
from app.core.agent.session import Session, SessionOptions
from app.core.mcp.connection import log_path
from app.core.mcp.manager import McpManager
from app.core.mcp.settings import McpServerConfig
from app.core.policy.permissions import (
    ApprovalRequest,
    Decision,
    PermissionGate,
    PermissionRequested,
)
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools
from tests.servers import MCP_SERVER, mcp_http_server

pytest.importorskip("mcp", reason="the MCP SDK is the optional extra nanobot[mcp]")


def stdio(**kw: object) -> McpServerConfig:
    return McpServerConfig(command=sys.executable, args=(str(MCP_SERVER),), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with mcp_http_server() as url:
        yield url


class Turn:
    """A session with the test server as ``test`` and a scripted model."""

    def __init__(self, tmp_path: Path, server: McpServerConfig, *replies: ScriptedReply | str,
                 answer: Decision = "allow_once", permissions: PermissionGate | None = None,
                 ) -> None:
        self.provider = ScriptedProvider(replies)
        self.manager = McpManager({"test": server}, tmp_path)
        self.events: list[Event] = []
        self.asked: list[ApprovalRequest] = []

        async def approver(req: ApprovalRequest) -> Decision:
            self.asked.append(req)
            return answer

        self.session = Session(self.provider, tools=ToolRegistry(default_tools()),
                               options=SessionOptions(workspace=tmp_path), approver=approver,
                               permissions=permissions, hooks=[self.manager])
        self.session.add_listener(self.events.append)

    def results(self) -> list[ToolCallFinished]:
        return [e for e in self.events if isinstance(e, ToolCallFinished)]

    def notices(self) -> list[Notice]:
        return [e for e in self.events if isinstance(e, Notice)]


@pytest.mark.parametrize("transport", ["stdio", "http"])
async def test_a_turn_calls_a_real_mcp_tool_after_asking(tmp_path: Path, http_url: str,
                                                          transport: str) -> None:
    server = stdio() if transport == "stdio" else McpServerConfig(url=http_url)
    note = tmp_path / f"note-{transport}.txt"
    t = Turn(tmp_path, server,
             ScriptedReply.call("test__write_note", path=str(note), text="hello from MCP"),
             "Written.")
    try:
        outcome = await t.session.run_turn("write the note")
        assert outcome.status == "finished" and outcome.text == "Written."
        # The model was offered the server's tools under NAME__tool.
        offered = {s.name for s in t.provider.requests[0].tools}
        assert {"test__write_note", "test__add", "test__spawn_helper"} <= offered
        # The permission question came first, named the server and the arguments.
        assert [r.tool for r in t.asked] == ["test__write_note"]
        assert "MCP server 'test'" in t.asked[0].preview and "hello from MCP" in t.asked[0].preview
        assert any(isinstance(e, PermissionRequested) for e in t.events)
        # The server really ran the tool.
        assert note.read_text() == "hello from MCP"
        [result] = t.results()
        assert not result.is_error and "wrote 14 bytes" in result.content
    finally:
        await t.manager.aclose()


async def test_a_denied_call_never_reaches_the_server(tmp_path: Path) -> None:
    note = tmp_path / "no.txt"
    t = Turn(tmp_path, stdio(), ScriptedReply.call("test__write_note", path=str(note), text="x"),
             "OK.", answer="deny")
    try:
        await t.session.run_turn("write it")
        [result] = t.results()
        assert result.is_error and "denied" in result.content and not note.exists()
    finally:
        await t.manager.aclose()


async def test_arguments_are_validated_against_the_schema_before_asking(tmp_path: Path) -> None:
    t = Turn(tmp_path, stdio(), ScriptedReply.call("test__repeat", text="ab", times=9), "Sorry.")
    try:
        await t.session.run_turn("repeat it")
        [result] = t.results()
        assert result.is_error and "at 'times': 9 is greater than the maximum of 5" in result.content
        assert t.asked == []  # nothing to ask about: the call was refused first
    finally:
        await t.manager.aclose()


async def test_per_tool_policy_and_server_errors(tmp_path: Path) -> None:
    server = stdio(tools={"add": "allow", "fail": "allow"})
    t = Turn(tmp_path, server, ScriptedReply.call("test__add", a=2, b=3),
             ScriptedReply.call("test__fail"), "Five, and fail failed.")
    try:
        await t.session.run_turn("add, then fail")
        add, fail = t.results()
        assert add.content == "5" and not add.is_error
        assert fail.is_error and "Error executing tool fail" in fail.content
        assert t.asked == []  # both allowed by the per-tool policy
    finally:
        await t.manager.aclose()


async def test_permissions_config_names_the_tool_and_wins(tmp_path: Path) -> None:
    from app.core.settings.tool_config import PermissionsConfig

    t = Turn(tmp_path, stdio(policy="allow"), ScriptedReply.call("test__add", a=1, b=1), "2",
             permissions=PermissionGate(PermissionsConfig(tools={"test__add": "deny"})))
    try:
        await t.session.run_turn("add")
        [result] = t.results()
        assert result.is_error and "disabled by the permissions policy" in result.content
    finally:
        await t.manager.aclose()


async def test_servers_start_lazily_and_stderr_never_reaches_the_terminal(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    t = Turn(tmp_path, stdio(), "Hello.")
    manager = t.manager
    assert manager is not None
    [status] = manager.status()
    assert status.state.startswith("not started") and status.tools == ()
    assert "test__add" not in t.session.tools.names()
    try:
        await t.session.run_turn("hi")
        [status] = manager.status()
        assert status.state == "ready" and "test__add" in status.tools
        assert any("'test' ready" in n.text for n in t.notices())
        assert "MCP server starting" in log_path("test").read_text()
        assert "MCP server starting" not in capfd.readouterr().err
    finally:
        await t.manager.aclose()
    assert manager.status()[0].state == "stopped"
    assert "test__add" not in t.session.tools.names()


async def test_stopping_a_server_stops_its_process_group(tmp_path: Path) -> None:
    t = Turn(tmp_path, stdio(policy="allow"), ScriptedReply.call("test__spawn_helper"), "Started.")
    await t.session.run_turn("start the helper")
    [result] = t.results()
    helper = psutil.Process(int(result.content))
    assert helper.is_running()
    await t.manager.aclose()
    gone, alive = await asyncio.to_thread(psutil.wait_procs, [helper], 10)
    assert helper in gone and not alive


async def test_a_server_that_cannot_start_is_a_notice_and_the_turn_goes_on(
        tmp_path: Path) -> None:
    broken = McpServerConfig(command=str(tmp_path / "no-such-server"))
    t = Turn(tmp_path, broken, "Answer without it.")
    outcome = await t.session.run_turn("hello")
    assert outcome.status == "finished" and outcome.text == "Answer without it."
    warning = [n for n in t.notices() if n.level == "warning"]
    assert warning and "failed to start" in warning[0].text and "no-such-server" in warning[0].text
    manager = t.manager
    assert manager is not None and manager.status()[0].state == "failed"


async def test_a_slow_start_is_cut_by_its_timeout(tmp_path: Path) -> None:
    slow = McpServerConfig(command=sys.executable,
                           args=("-c", "import time; time.sleep(60)"), startup_timeout=1.0)
    t = Turn(tmp_path, slow, "Fine.")
    started = time.monotonic()
    await t.session.run_turn("hello")
    assert time.monotonic() - started < 30
    [status] = t.manager.status()
    assert status.state == "failed" and "did not start within 1 s" in status.error


async def test_cancel_while_servers_start_ends_the_turn(tmp_path: Path) -> None:
    slow = McpServerConfig(command=sys.executable,
                           args=("-c", "import time; time.sleep(60)"), startup_timeout=30.0)
    t = Turn(tmp_path, slow, "never")
    starting = asyncio.Event()
    t.session.add_listener(
        lambda e: starting.set() if isinstance(e, Notice) and "Starting MCP" in e.text else None)
    task = asyncio.create_task(t.session.run_turn("hello"))
    await asyncio.wait_for(starting.wait(), 10)
    t.session.cancel()
    outcome = await asyncio.wait_for(task, 10)
    assert outcome.status == "cancelled"
    await t.manager.aclose()


async def test_doctor_starts_each_server_and_reports_it(nanobot_home: Path, http_url: str,
                                                         tmp_path: Path) -> None:
    from app.core.models.doctor import run_doctor
    from app.core.models.hardware import fixed_snapshot

    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'[mcp_servers.local]\ncommand = "{sys.executable}"\nargs = ["{MCP_SERVER}"]\n'
                   f'[mcp_servers.remote]\nurl = "{http_url}"\n'
                   f'[mcp_servers.broken]\ncommand = "{tmp_path / "missing"}"\n')
    report = await run_doctor(hw=fixed_snapshot(ram_gib=24), env={}, probe_ports={})
    checks = {c.name: c for c in report.section("mcp")}
    assert checks["local"].status == "ok" and "tool(s): add" in checks["local"].detail
    assert checks["remote"].status == "ok" and http_url in checks["remote"].detail
    assert checks["broken"].status == "fail" and "command not found" in checks["broken"].detail
    assert "mcp" in {c["section"] for c in report.to_dict()["checks"]}
