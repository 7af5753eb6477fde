"""Branches on the scripted provider: a fork of the conversation that thinks on the side with
read-only tools, reports back as a branch result the next turn reads, within its own budget and
the configured cap; cancelled like any worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.agent.events import Event
from app.core.agent.messages import ToolCall
from app.core.policy.permissions import ApprovalRequest, Decision
from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import SwarmConfig
from app.core.swarm.branch import BRANCH_PROMPT, RESULT_HEAD, fork_history, start_branch
from app.core.swarm.events import BranchFinished
from app.core.tools.base import ToolError
from tests.core.swarm.branch_helpers import make_root


def gated(text: str) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=[text[:3], text[3:]], gate_at=1, gate=gate), gate


async def test_a_branch_forks_the_conversation_and_its_result_is_part_of_the_next_turn(
        tmp_path: Path) -> None:
    session, provider, swarm = make_root(tmp_path)
    provider.root.enqueue("We use Postgres 16.")
    await session.run_turn("Which database do we use?")
    events: list[Event] = []
    session.add_listener(events.append)
    reply, gate = gated("Postgres 16 supports MERGE; upgrade not needed.")
    provider.branch.enqueue(reply)
    w = start_branch(swarm, "Do we need to upgrade the database for MERGE?")
    await provider.branch.request_seen.wait()
    first = provider.branch.requests[0]
    assert first.messages[0].content.endswith(BRANCH_PROMPT)
    said = [(m.role, m.content) for m in first.messages[1:]]
    assert said == [("user", "Which database do we use?"), ("assistant", "We use Postgres 16."),
                    ("user", "Do we need to upgrade the database for MERGE?")]
    offered = {t.name for t in first.tools}
    assert {"read_file", "grep", "glob", "list_dir"} <= offered
    assert not offered & {"write_file", "edit_file", "exec", "branch"}  # nothing that writes
    # The conversation goes on while the branch thinks.
    provider.root.enqueue("Hi again!")
    outcome = await session.run_turn("hello")
    assert outcome.text == "Hi again!" and not w.final
    gate.set()
    await swarm.wait([w.id])
    done = [e for e in events if isinstance(e, BranchFinished)]
    assert len(done) == 1 and done[0].state == "done"
    assert done[0].result == "Postgres 16 supports MERGE; upgrade not needed."
    assert done[0].question == "Do we need to upgrade the database for MERGE?"
    provider.root.enqueue("Good news: no upgrade needed.")
    await session.run_turn("so?")
    reports = [m.content for m in provider.root.requests[-1].messages
               if m.role == "notice" and m.content.startswith(RESULT_HEAD)]
    assert len(reports) == 1 and "upgrade not needed" in reports[0]
    assert [w.kind for w in swarm.workers.values()] == ["branch"]


async def test_the_model_branches_mid_turn_and_the_fork_leaves_out_the_open_call(
        tmp_path: Path) -> None:
    session, provider, swarm = make_root(tmp_path)
    provider.root.enqueue(ScriptedReply.call("branch", question="What is the code word?"))
    provider.root.enqueue("I started a branch to find out; meanwhile, anything else?")
    provider.branch.enqueue(ScriptedReply.call("read_file", path="notes.txt"))
    provider.branch.enqueue("The code word is PLUM.")
    outcome = await session.run_turn("Look up the code word on the side.")
    assert outcome.text.startswith("I started a branch")
    (w,) = swarm.workers.values()
    await swarm.wait([w.id])
    assert w.state == "done" and w.result == "The code word is PLUM."
    branch_first = provider.branch.requests[0].messages
    assert [m.role for m in branch_first[1:]] == ["user", "user"]  # no dangling branch call
    tool_msgs = [m for m in provider.branch.requests[1].messages if m.role == "tool"]
    assert tool_msgs and "PLUM" in tool_msgs[0].content  # it could read


def test_fork_history_keeps_finished_steps() -> None:
    from app.core.agent.messages import Message

    call = ToolCall("c1", "read_file", {"path": "a"})
    done = [Message(role="user", content="q"), Message(role="assistant", tool_calls=(call,)),
            Message(role="tool", content="x", tool_call_id="c1", name="read_file")]
    assert fork_history(done) == done
    open_call = ToolCall("c2", "branch", {"question": "?"})
    pending = [*done, Message(role="assistant", tool_calls=(open_call,))]
    assert fork_history(pending) == done


async def test_the_cap_on_running_branches(tmp_path: Path) -> None:
    _, provider, swarm = make_root(tmp_path, SwarmConfig(max_branches=1))
    reply, gate = gated("first done")
    provider.branch.enqueue(reply)
    start_branch(swarm, "first question")
    with pytest.raises(ToolError, match="max_branches = 1"):
        start_branch(swarm, "second question")
    with pytest.raises(ToolError, match="needs a question"):
        start_branch(swarm, "   ")
    gate.set()
    await swarm.wait(list(swarm.workers))
    provider.branch.enqueue("second done")
    w2 = start_branch(swarm, "second question")  # room again once the first ended
    await swarm.wait([w2.id])
    assert w2.result == "second done"


async def test_a_branch_has_its_own_budget(tmp_path: Path) -> None:
    config = SwarmConfig(branch_max_iterations=2, branch_token_budget=5000,
                         branch_timeout_s=30.0)
    _, provider, swarm = make_root(tmp_path, config)
    for _ in range(3):
        provider.branch.enqueue(ScriptedReply.call("list_dir", path="."))
    w = start_branch(swarm, "list things forever")
    assert w.budget.max_iterations == 2 and w.budget.max_tokens == 5000
    await swarm.wait([w.id])
    assert w.state == "over_budget" and "tool-round budget (2)" in w.stop_reason


async def test_a_branch_never_asks_the_user(tmp_path: Path) -> None:
    """web_fetch asks before reaching a host; in a branch nobody is asked and it is refused."""
    asked: list[ApprovalRequest] = []

    async def approver(request: ApprovalRequest) -> Decision:
        asked.append(request)
        return "allow_once"

    session, provider, swarm = make_root(tmp_path, approver=approver)
    assert session.approver is approver
    provider.branch.enqueue(ScriptedReply.call("web_fetch", url="https://example.com/"))
    provider.branch.enqueue("Could not fetch it.")
    w = start_branch(swarm, "what does example.com say?")
    await swarm.wait([w.id])
    results = [m for m in w.session.history if m.role == "tool"] if w.session else []
    assert results and results[0].is_error and "approval" in results[0].content
    assert asked == []


async def test_cancel_a_branch_like_a_worker(tmp_path: Path) -> None:
    session, provider, swarm = make_root(tmp_path)
    events: list[Event] = []
    session.add_listener(events.append)
    reply, _gate = gated("never finished")
    provider.branch.enqueue(reply)
    w = start_branch(swarm, "a long question")
    await provider.branch.request_seen.wait()
    assert swarm.cancel(w.id) == [w.id]
    await swarm.wait([w.id])
    done = [e for e in events if isinstance(e, BranchFinished)]
    assert done and done[0].state == "cancelled" and done[0].stop_reason == "cancelled by user"
    snap = swarm.snapshot()
    assert snap.rows[0].label.startswith("branch: ") and snap.rows[0].state == "cancelled"
