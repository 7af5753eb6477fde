"""Workers meet the parent's permission policy and ask the parent's user."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.messages import ToolCall
from app.core.policy.permissions import ApprovalRequest, Decision
from app.core.providers.scripted import ScriptedReply
from app.core.tools.edit import WriteFile
from tests.core.swarm.swarm_helpers import make_root


async def _run(tmp_path: Path, decision: Decision) -> tuple[list[ApprovalRequest], Path, str]:
    asked: list[ApprovalRequest] = []

    async def approver(req: ApprovalRequest) -> Decision:
        asked.append(req)
        return decision

    session, provider, swarm, _ = make_root(tmp_path, approver=approver)
    session.tools.register(WriteFile())
    write = ToolCall(id="w1", name="write_file", arguments={"path": "out.txt", "content": "hi\n"})
    provider.script("writer", ScriptedReply(tool_calls=[write]), "wrote it")
    spawn = ToolCall(id="s1", name="spawn", arguments={"action": "spawn", "task": "writer task",
                                                      "tools": ["write_file"]})
    provider.script("root", ScriptedReply(tool_calls=[spawn]), "started")
    outcome = await session.run_turn("root: write a file in a worker")
    assert outcome.text == "started"  # spawn itself needed no approval
    [worker] = await swarm.wait(list(swarm.workers))
    return asked, tmp_path / "ws" / "out.txt", worker.result


async def test_a_workers_write_asks_the_parents_approver(tmp_path: Path) -> None:
    asked, out, result = await _run(tmp_path, "allow_once")
    assert [r.tool for r in asked] == ["write_file"]
    assert asked[0].label.startswith("[worker writer task] ")  # the user sees who asks
    assert out.read_text() == "hi\n" and result == "wrote it"


async def test_a_refusal_reaches_the_worker_and_nothing_is_written(tmp_path: Path) -> None:
    asked, out, _ = await _run(tmp_path, "deny")
    assert [r.tool for r in asked] == ["write_file"]
    assert not out.exists()
