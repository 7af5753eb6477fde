"""A reply cut by the token limit: its tool calls never run, the user sees a notice, the model is
told. Through a real session, the real HTTP provider and the fault-injecting server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.agent.events import Event, Notice, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools
from tests.fault_server import ANSWER, FaultServer, answer, fault_server, tool_call


@pytest.mark.parametrize("fault", ["cut_write_file", "cut_bare_path"], indirect=True)
async def test_a_call_cut_by_the_token_limit_is_never_run(fault: FaultServer,
                                                          tmp_path: Path) -> None:
    provider = OpenAIHTTPProvider(fault.base_url, "m", name="cut")
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=tmp_path, max_tokens=64),
                      auto_approve=True)
    seen: list[Event] = []
    session.add_listener(seen.append)
    outcome = await session.run_turn("write out.txt")
    await provider.aclose()

    assert outcome.status == "finished" and outcome.text == ANSWER
    assert not any(isinstance(e, ToolCallStarted) for e in seen)  # nothing ran
    assert not (tmp_path / "out.txt").exists()
    notices = [e.text for e in seen if isinstance(e, Notice)]
    assert any("cut off at the token limit (max_tokens = 64)" in n for n in notices)
    # The second request tells the model why its call did not run.
    told = json.dumps(fault.requests[1]["messages"])
    assert "was cut off at the token limit" in told and "not run" in told


async def test_a_server_that_reuses_call_ids_loses_no_result(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("ALPHA-CONTENT\n")
    (tmp_path / "b.txt").write_text("BETA-CONTENT\n")
    # Every reply numbers its call "call_1", as servers that count per response do.
    with fault_server(tool_call("read_file", path="a.txt"), tool_call("read_file", path="b.txt"),
                      answer) as server:
        provider = OpenAIHTTPProvider(server.base_url, "m", name="reuse")
        session = Session(provider, tools=ToolRegistry(builtin_tools()),
                          options=SessionOptions(workspace=tmp_path))
        outcome = await session.run_turn("read a.txt then b.txt")
        await provider.aclose()
    assert outcome.status == "finished"
    ids = [c.id for m in session.history for c in m.tool_calls]
    assert len(ids) == 2 and len(set(ids)) == 2
    last = server.requests[-1]["messages"]
    results = {m["tool_call_id"]: m["content"] for m in last if m["role"] == "tool"}
    assert sorted(results) == sorted(ids)
    assert any("BETA-CONTENT" in r for r in results.values())
