"""The Context Gate: raw when it fits; otherwise cached whole, briefed, and drillable."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallFinished
from app.core.agent.session import Session, SessionOptions
from app.core.context.context_gate import ContextGate
from app.core.context.tokens import estimate_tokens
from app.core.policy.permissions import PermissionGate
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig
from app.core.tools.base import ToolContext, ToolRegistry
from app.core.tools.defaults import builtin_tools
from app.core.tools.files import ReadFile

# About 5 MB of log-like output with a few errors buried in it.
GEN = ("python -c \"import sys\n"
       "for i in range(1, 65001):\n"
       "    lvl = 'ERROR' if i % 20000 == 0 else 'INFO'\n"
       "    sys.stdout.write(f'2026-01-01 12:00:00 {lvl} worker-{i:05d} finished job {i} "
       "with a long enough status line to be realistic {i * 7 % 97:02d}\\\\n')\n\"")


def test_small_output_goes_in_raw(tmp_path: Path) -> None:
    gate = ContextGate(tmp_path / "cache")
    admitted = gate.admit("hello\n", tool="exec", args={}, budget_tokens=1000)
    assert admitted.raw and admitted.content == "hello\n" and not admitted.handle
    assert not (tmp_path / "cache").exists()  # nothing cached when nothing was too big


def test_a_tiny_budget_still_lets_small_results_through(tmp_path: Path) -> None:
    gate = ContextGate(tmp_path / "cache")
    assert gate.admit("x" * 300, tool="exec", args={}, budget_tokens=0).raw


def test_unknown_and_malformed_handles_resolve_to_nothing(tmp_path: Path) -> None:
    gate = ContextGate(tmp_path / "cache")
    assert gate.resolve("@out1") is None and gate.resolve("../../etc/passwd") is None
    assert gate.resolve("@out1/../../x") is None


async def test_five_megabytes_of_exec_output_through_the_loop(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    provider = ScriptedProvider([ScriptedReply.call("exec", command=GEN),
                                 ScriptedReply.call("read_file", path="@out1", lines="40000:40002"),
                                 "The run had errors at lines 20000, 40000 and 60000."],
                                context_window=8192)
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws, max_tokens=1024),
                      permissions=PermissionGate(PermissionsConfig(tools={"exec": "allow"})))
    events: list[Event] = []
    session.add_listener(events.append)
    outcome = await session.run_turn("run the job log generator and find errors")
    assert outcome.status == "finished"
    brief, drill = [e for e in events if isinstance(e, ToolCallFinished)]

    # The model saw a briefing that fits, never a bare truncation marker.
    seen = provider.requests[1].messages[-1].content if provider.requests[1].messages[-1].role \
        == "tool" else provider.requests[1].messages[-2].content
    assert seen == brief.content
    assert estimate_tokens(brief.content) < 8192 // 2
    assert "[TRUNCATED" not in brief.content.upper()
    assert "65,000 lines" in brief.content and "MB" in brief.content
    assert "Outline (line ranges):" in brief.content and "  1-" in brief.content
    assert "20000: 2026-01-01 12:00:00 ERROR worker-20000" in brief.content  # key lines verbatim
    assert 'read_file with path "@out1" and lines "a:b"' in brief.content

    # The full output is on disk, byte for byte, and any range can be read back.
    cached = session.gate.resolve("@out1")
    assert cached is not None
    full = cached.read_text()
    assert len(full.encode()) > 5_000_000 and len(full.splitlines()) == 65000
    assert drill.content.splitlines() == full.splitlines()[39999:40002]
    assert "ERROR worker-40000" in drill.content


async def test_a_huge_file_read_points_back_at_the_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    lines = [f"def f{i}():\n    return {i}\n" for i in range(40_000)]
    (ws / "big.py").write_text("".join(lines))
    gate = ContextGate(tmp_path / "cache")
    ctx = ToolContext(workspace=ws, cancel=CancelToken(), gate=gate)
    result = await ReadFile().run({"path": "big.py"}, ctx)
    admitted = gate.admit(result.content, tool="read_file", args={"path": "big.py"},
                          budget_tokens=2000, source_path=result.meta["source"])
    assert not admitted.raw and admitted.handle == ""  # no copy: the file itself is on disk
    assert 'read_file with path "big.py" and lines "a:b"' in admitted.content
    assert "def f0():" in admitted.content and "def f39999():" in admitted.content
    assert not (tmp_path / "cache").exists()
