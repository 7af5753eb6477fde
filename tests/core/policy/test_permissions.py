"""Permissions in the real loop (scripted model, real tools): policy, approver, headless, secrets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import (
    ApprovalRequest,
    Approver,
    Decision,
    PermissionGate,
    PermissionRequested,
    PermissionResolved,
)
from app.core.policy.redact import register_secret_env
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools


def make(tmp_path: Path, *replies: ScriptedReply | str, policy: PermissionsConfig | None = None,
         store: bool = False, approver: Approver | None = None, auto_approve: bool = False,
         ) -> tuple[Session, ScriptedProvider, list[Event]]:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    provider = ScriptedProvider(replies)
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws),
                      store=SessionStore.create(tmp_path / "sessions") if store else None,
                      permissions=PermissionGate(policy or PermissionsConfig()),
                      approver=approver, auto_approve=auto_approve)
    events: list[Event] = []
    session.add_listener(events.append)
    return session, provider, events


def results(events: list[Event]) -> list[ToolCallFinished]:
    return [e for e in events if isinstance(e, ToolCallFinished)]


async def test_headless_without_yes_refuses_and_nothing_runs(tmp_path: Path) -> None:
    session, provider, events = make(
        tmp_path, ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n"),
        "I could not write it.")
    outcome = await session.run_turn("create hello.py")
    assert outcome.status == "finished"
    (refused,) = results(events)
    assert refused.is_error and refused.content.startswith("Refused: write_file needs the user's")
    assert "headless run without --yes" in refused.content
    assert not (tmp_path / "ws" / "hello.py").exists()
    told = provider.requests[1].messages
    assert any(m.role == "tool" and "nothing was run" in m.content for m in told)


async def test_yes_auto_approves_but_not_the_deny_list(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "keep").mkdir()
    session, _, events = make(
        tmp_path, ScriptedReply.call("exec", command="echo ran"),
        ScriptedReply.call("exec", command="rm -rf keep"), "done", auto_approve=True)
    await session.run_turn("go")
    ran, denied = results(events)
    assert ran.content == "ran" and not ran.is_error
    assert denied.is_error and "deny-list" in denied.content and "nothing was run" in denied.content
    assert (tmp_path / "ws" / "keep").exists()
    resolved = [e for e in events if isinstance(e, PermissionResolved)]
    assert [(r.allowed, r.by) for r in resolved] == [(True, "auto"), (False, "deny-list")]


async def test_policy_allow_deny_and_exec_allow_list(tmp_path: Path) -> None:
    policy = PermissionsConfig(tools={"write_file": "allow", "web_fetch": "deny"},
                               exec_allow=("echo",))
    session, _, events = make(
        tmp_path, ScriptedReply.call("write_file", path="a.txt", content="x"),
        ScriptedReply.call("web_fetch", url="http://127.0.0.1:9/"),
        ScriptedReply.call("exec", command="echo allowed"),
        ScriptedReply.call("exec", command="echo a; touch b.txt"), "ok", policy=policy)
    await session.run_turn("go")
    wrote, fetch, echo, mixed = results(events)
    assert not wrote.is_error and (tmp_path / "ws" / "a.txt").read_text() == "x"
    assert fetch.is_error and "disabled by the permissions policy" in fetch.content
    assert echo.content == "allowed"
    assert mixed.is_error and "needs the user's approval" in mixed.content  # touch is not listed
    assert not (tmp_path / "ws" / "b.txt").exists()


async def test_approver_once_session_and_deny(tmp_path: Path) -> None:
    asked: list[ApprovalRequest] = []
    answers: list[Decision] = ["allow_once", "allow_session", "deny"]

    async def approver(req: ApprovalRequest) -> Decision:
        asked.append(req)
        return answers.pop(0)

    session, _, events = make(
        tmp_path, ScriptedReply.call("exec", command="echo one"),
        ScriptedReply.call("exec", command="ls -a"),
        ScriptedReply.call("exec", command="ls -l"),  # `ls` allowed for the session now
        ScriptedReply.call("exec", command="ls > listing.txt"),  # a redirection is asked
        ScriptedReply.call("edit_file", path="nope.txt", old_text="a", new_text="b"), "end",
        approver=approver)
    await session.run_turn("go")
    r = results(events)
    assert r[0].content == "one" and not r[1].is_error and not r[2].is_error
    assert r[3].is_error and "the user denied permission to run exec" in r[3].content
    assert not (tmp_path / "ws" / "listing.txt").exists()
    # An edit whose preview fails is refused with the preview's error: nothing to ask about.
    assert r[4].is_error and r[4].content.startswith("Refused: file not found: nope.txt")
    assert [a.preview for a in asked] == ["echo one", "ls -a", "ls > listing.txt"]
    assert asked[1].session_scope == "exec: ls" and asked[1].session_label == "`ls`"
    assert asked[2].session_label == "this exact command"
    assert sum(isinstance(e, PermissionRequested) for e in events) == 3


async def test_edit_approval_shows_the_diff(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "app.py").write_text("x = 1\n")
    seen: list[str] = []

    async def approver(req: ApprovalRequest) -> Decision:
        seen.append(req.preview)
        return "allow_once"

    session, _, _ = make(tmp_path, ScriptedReply.call("edit_file", path="app.py", old_text="x = 1",
                                                      new_text="x = 2"), "ok",
                         approver=approver)
    await session.run_turn("bump x")
    assert "-x = 1" in seen[0] and "+x = 2" in seen[0]
    assert (tmp_path / "ws" / "app.py").read_text() == "x = 2\n"


async def test_cancel_while_waiting_for_approval(tmp_path: Path) -> None:
    waiting = asyncio.Event()
    never = asyncio.Event()

    async def approver(req: ApprovalRequest) -> Decision:
        waiting.set()
        await never.wait()
        return "allow_once"

    session, _, _ = make(tmp_path, ScriptedReply.call("exec", command="touch x"), "unused",
                         approver=approver)
    task = asyncio.create_task(session.run_turn("go"))
    await waiting.wait()
    assert session.cancel()
    outcome = await task
    assert outcome.status == "cancelled"
    assert not (tmp_path / "ws" / "x").exists()


async def test_secrets_never_reach_the_transcript(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-nanobot-test-5f1e2d3c4b5a"
    monkeypatch.setenv("MY_SERVICE_CREDS", secret)
    register_secret_env("MY_SERVICE_CREDS")  # as config does for api_key_env names
    session, provider, events = make(
        tmp_path, ScriptedReply.call("exec", command=f"echo {secret}; echo $MY_SERVICE_CREDS"),
        "done", policy=PermissionsConfig(tools={"exec": "allow"}), store=True)
    await session.run_turn("print the key")
    (res,) = results(events)
    # The value typed into the command is redacted; the variable itself never reaches the child.
    assert res.content == "[redacted:MY_SERVICE_CREDS]"
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    assert secret not in str(started.arguments) and secret not in started.label
    assert session.store is not None
    session.store.close()
    assert secret not in session.store.path.read_text()
    assert all(secret not in m.content for m in provider.requests[1].messages)


class _Probe:
    """A tool outside the built-in policy table; ``read_only`` is set per test."""

    def __init__(self, read_only: bool) -> None:
        self.read_only = read_only
        from app.core.providers.base import ToolSpec

        self.spec = ToolSpec(name="probe", description="Probe.",
                             parameters={"type": "object", "properties": {}})

    def label(self, args: dict[str, object]) -> str:
        return "Probing"

    async def run(self, args: dict[str, object], ctx: object) -> object:
        from app.core.tools.base import ToolResult

        return ToolResult("probed")


@pytest.mark.parametrize(("read_only", "named", "runs"), [
    (True, None, True),       # declares it changes nothing: runs without a question
    (False, None, False),     # unknown and not read-only: asks (and headless nobody answers)
    (True, "deny", False),    # the user's policy wins over the declaration
])
async def test_read_only_tools_outside_the_table(tmp_path: Path, read_only: bool,
                                                 named: str | None, runs: bool) -> None:
    policy = PermissionsConfig(tools={"probe": named} if named else {})
    session, _, events = make(tmp_path, ScriptedReply.call("probe"), "done", policy=policy)
    session.tools.register(_Probe(read_only))  # type: ignore[arg-type]  # a duck-typed Tool
    await session.run_turn("probe it")
    [result] = results(events)
    assert (result.content == "probed") is runs
