"""The delegate where tool output enters context: large output is read, small output skips it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.agent.events import Event
from app.core.agent.session import Session, SessionOptions
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.rlm.events import DelegateFinished, DelegateStarted, DelegateStep
from app.core.rlm.gate import needs_reader
from app.core.settings.config import Config, RlmConfig
from app.core.tools.base import ToolContext, ToolResult
from app.runtime.factory import SessionFactory, install_reader, install_swarm

BIG = "\n".join(f"[{i:05d}] compiling module_{i}.c ... ok" for i in range(4000)) + \
    "\nld: error: undefined symbol: frobnicate_v2 (referenced by src/main.o)\n" + \
    "\n".join(f"[{i:05d}] linking part {i} ok" for i in range(4000, 5000))


class Build:
    """A tool whose output is whatever the test says (a build log, a short line)."""

    def __init__(self, output: str, name: str = "build") -> None:
        from app.core.providers.base import ToolSpec

        self.output = output
        self.spec = ToolSpec(name, "run the build", {"type": "object", "properties": {}})
        self.read_only = True

    def label(self, args: dict[str, Any]) -> str:
        return "Building"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(self.output)


def act(name: str, confidence: float = 0.2, **arguments: object) -> ScriptedReply:
    return ScriptedReply.text(json.dumps({"name": name, "arguments": arguments,
                                          "confidence": confidence}))


def reader_factory(main: ScriptedProvider, reader: ScriptedProvider, tmp_path: Path,
                   tools: list[Any], **options: Any) -> SessionFactory:
    """Sessions with a worker tree and the reader on ``reader`` (the rlm slot), as the app's."""
    return SessionFactory(Config(rlm=RlmConfig(budget_scale=100)), main,
                          options=SessionOptions(workspace=tmp_path, **options),
                          tools=lambda: tools, slot_provider=lambda slot: reader,
                          auto_approve=True, features=(install_swarm, install_reader))


def session_with(output: str, reader: ScriptedProvider, tmp_path: Path,
                 tool_name: str = "build") -> tuple[Session, ScriptedProvider, list[Event]]:
    main = ScriptedProvider([ScriptedReply.call(tool_name), "The link failed."],
                            context_window=8192)
    session = reader_factory(main, reader, tmp_path, [Build(output, tool_name)],
                             max_tokens=1024).new().session
    events: list[Event] = []
    session.add_listener(events.append)
    return session, main, events


async def test_large_output_is_read_by_the_delegate_and_never_enters_main_context(
        tmp_path: Path) -> None:
    reader = ScriptedProvider([
        act("ctx_grep", var="output_0", pattern="error"),
        act("answer", 0.95, text="The link failed: undefined symbol frobnicate_v2 in "
                                 "src/main.o"),
        act("ctx_slice", 0.95, var="output_0", start=0, end=100),  # 183K chars: 3 rounds min
    ])
    session, main, events = session_with(BIG, reader, tmp_path)
    swarm = session.swarm
    assert swarm is not None
    outcome = await session.run_turn("why does the build fail?")
    assert outcome.status == "finished"
    tool_msg = next(m for m in session.history if m.role == "tool")
    assert "frobnicate_v2" in tool_msg.content and "@out1" in tool_msg.content
    # Verbatim evidence line, and none of the raw log around it.
    assert "ld: error: undefined symbol: frobnicate_v2 (referenced by src/main.o)" in \
        tool_msg.content
    assert "compiling module_" not in tool_msg.content
    # The main model's second request holds the finding only, far smaller than the output.
    second = main.requests[1]
    assert all("compiling module_" not in m.content for m in second.messages)
    assert len(tool_msg.content) < len(BIG) / 20
    # The whole output is kept for drill-down.
    assert session.gate.resolve("@out1") is not None
    assert session.gate.resolve("@out1").read_text() == BIG  # type: ignore[union-attr]
    # Its steps were reported (the conversation block) and it showed as a swarm row.
    kinds = [type(e) for e in events]
    assert DelegateStarted in kinds and DelegateStep in kinds and DelegateFinished in kinds
    rows = swarm.snapshot().rows
    assert len(rows) == 1 and rows[0].id.startswith("r") and rows[0].state == "done"
    assert rows[0].iterations == 3
    assert swarm.status_lines(None) == []  # not a worker: nothing injected into the prompt


async def test_small_results_skip_the_delegate(tmp_path: Path) -> None:
    reader = ScriptedProvider([])
    session, _main, events = session_with("build ok: 12 targets", reader, tmp_path)
    await session.run_turn("build it")
    assert reader.requests == []
    assert not any(isinstance(e, DelegateStarted) for e in events)
    tool_msg = next(m for m in session.history if m.role == "tool")
    assert tool_msg.content == "build ok: 12 targets"


async def test_interpretive_tools_go_to_the_delegate_even_when_they_fit(tmp_path: Path) -> None:
    page = "Welcome. " * 400  # 3,600 chars: fits the window, but exec/web output needs reading
    assert needs_reader("web_fetch", page, 10_000, RlmConfig())
    assert not needs_reader("read_file", page, 10_000, RlmConfig())
    assert not needs_reader("web_fetch", page, 10_000, RlmConfig(enabled=False))
    reader = ScriptedProvider([act("answer", 0.9, text="A welcome page, nothing else.")])
    session, _main, _events = session_with(page, reader, tmp_path, tool_name="web_fetch")
    await session.run_turn("what does the page say?")
    tool_msg = next(m for m in session.history if m.role == "tool")
    assert "A welcome page" in tool_msg.content and len(reader.requests) == 1


async def test_a_failed_delegate_falls_back_to_the_briefing(tmp_path: Path) -> None:
    from app.core.providers.base import ProviderError

    reader = ScriptedProvider([ScriptedReply(error=ProviderError("model gone"))])
    session, _main, _events = session_with(BIG, reader, tmp_path)
    await session.run_turn("why does the build fail?")
    tool_msg = next(m for m in session.history if m.role == "tool")
    assert "too large for the context window" in tool_msg.content  # the gate's briefing
    assert "compiling module_00001" not in tool_msg.content
