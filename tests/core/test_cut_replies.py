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
from tests.fault_server import ANSWER, FaultServer


@pytest.mark.parametrize("fault", ["cut_write_file", "cut_bare_path"], indirect=True)
async def test_a_call_cut_by_the_token_limit_is_never_run(fault: FaultServer,
                                                          tmp_path: Path) -> None:
    provider = OpenAIHTTPProvider(fault.base_url, "m", name="cut")
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=tmp_path, max_tokens=64))
    session.auto_approve = True
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
