"""An MCP tool through the real bundled model: the grammar built from the server's own schema
holds the model's first step to a call of it, the call is parsed, validated, run by the real
server, and its result comes back into the turn.

What the 0.5B model answers afterwards is not asserted (that is model quality, measured in
bench/); the assertions are what the loop guarantees for any call the model writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.mcp.manager import McpManager
from app.core.mcp.settings import McpServerConfig
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.tools.base import ToolRegistry
from tests.core.agent.test_agent_real_model import FirstStepCalls, catalog_model  # noqa: F401
from tests.servers import MCP_SERVER

pytestmark = pytest.mark.model
pytest.importorskip("mcp", reason="the MCP SDK is the optional extra nanobot[mcp]")


async def test_the_model_calls_an_mcp_tool_under_its_schema_grammar(
        catalog_model: LlamaInProcessProvider, tmp_path: Path) -> None:  # noqa: F811
    provider = FirstStepCalls(catalog_model)
    manager = McpManager({"test": McpServerConfig(command=sys.executable,
                                                  args=(str(MCP_SERVER),), policy="allow")},
                         tmp_path)
    session = Session(provider, tools=ToolRegistry(),  # type: ignore[arg-type]
                      options=SessionOptions(workspace=tmp_path, max_iterations=2,
                                             max_tokens=120), hooks=[manager])
    events: list[Event] = []
    session.add_listener(events.append)
    try:
        await manager.start_all()
        for name in session.tools.names() - {"test__add"}:
            session.tools.unregister(name)
        await session.run_turn("Add 2 and 3 with the test server's add tool.")
        first = provider.requests[0]
        assert [t.name for t in first.tools] == ["test__add"]
        [started] = [e for e in events if isinstance(e, ToolCallStarted)][:1]
        assert started.name == "test__add"
        a, b = started.arguments["a"], started.arguments["b"]
        assert isinstance(a, int) and isinstance(b, int)  # the schema's types, via the grammar
        [finished] = [e for e in events if isinstance(e, ToolCallFinished)][:1]
        assert not finished.is_error and finished.content == str(a + b)  # the server computed it
    finally:
        await manager.aclose()
