"""A catastrophic regular expression cannot freeze the app: grep, glob and ctx_grep run patterns
on RE2 in a worker thread, the event loop keeps running, and a cancel lands."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.context_store.ingest import ingest
from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import ctx_tools
from app.core.policy.shell_policy import deny_reason
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig, ToolsConfig, problems
from app.core.tools.base import ToolContext, ToolError, ToolRegistry, ToolResult
from app.core.tools.search import Glob, Grep

CATASTROPHIC = r"^(\w+\s?)*$"  # exponential in Python's engine on a long identifier + "!"
IDENT = "a" * 53 + "!"  # 24 characters took 6.3 s before; 53 hung for more than 300 s
HANG_GUARD = 120  # seconds; only a hang (the bug) comes near it


def workspace(tmp_path: Path, files: int, lines: int) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    body = "".join(f"{IDENT}\n" for _ in range(lines))
    for i in range(files):
        (ws / f"f{i:03}.txt").write_text(body)
    return ws


async def test_catastrophic_grep_returns(tmp_path: Path) -> None:
    ws = workspace(tmp_path, 3, 50)
    result = await asyncio.wait_for(Grep().run({"pattern": CATASTROPHIC}, ToolContext(
        ws, CancelToken())), HANG_GUARD)
    assert result.content == f"no matches for {CATASTROPHIC!r}"
    hit = await Grep().run({"pattern": r"^(\w+\s?)*!$"}, ToolContext(ws, CancelToken()))
    assert hit.meta["matches"] == 150


class SlowGrep(Grep):
    """Grep that says when its worker thread starts and ends, and keeps its last result."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.ended = threading.Event()
        self.last: ToolResult | None = None

    def _grep(self, *args: Any) -> ToolResult:
        self.started.set()
        try:
            self.last = super()._grep(*args)
            return self.last
        finally:
            self.ended.set()


async def test_the_loop_stays_responsive_and_a_cancel_lands(tmp_path: Path) -> None:
    ws = workspace(tmp_path, 40, 5000)  # long enough to still be searching when we look
    grep = SlowGrep()
    every_line = r"^(\w+\s?)*!$"  # matches every line, so matches counted = lines searched
    provider = ScriptedProvider([ScriptedReply.call("grep", pattern=every_line), "never"])
    session = Session(provider, tools=ToolRegistry([grep]), options=SessionOptions(workspace=ws))
    events: list[Event] = []
    session.add_listener(events.append)
    turn = asyncio.create_task(session.run_turn("search"))
    # The loop runs this coroutine while the worker thread searches.
    await asyncio.to_thread(grep.started.wait)
    assert any(isinstance(e, ToolCallStarted) for e in events)
    assert not grep.ended.is_set(), "the search finished before the loop could look"
    assert session.cancel()
    outcome = await asyncio.wait_for(turn, HANG_GUARD)
    assert outcome.status == "cancelled"
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished and finished[0].content == "[cancelled by user]"
    # The worker thread saw the cancel too and stopped before the end of the files.
    await asyncio.to_thread(grep.ended.wait, HANG_GUARD)
    assert grep.last is not None and grep.last.meta["matches"] < 40 * 5000


async def test_pathological_glob_returns(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ("a" * 200 + ".txt")).write_text("x")
    result = await asyncio.wait_for(Glob().run({"pattern": "*a*a*a*a*a*a*a*a*a*a*a*b"},
                                               ToolContext(ws, CancelToken())), HANG_GUARD)
    assert "no files match" in result.content


async def test_ctx_grep_runs_on_the_linear_engine(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "ids.txt").write_text(f"{IDENT}\n" * 200)
    ingest([src], "c", tmp_path / "vols")
    tools = {t.spec.name: t for t in ctx_tools(VolumeStore(tmp_path / "vols"))}
    ctx = ToolContext(Path("."), CancelToken())
    result = await asyncio.wait_for(tools["ctx_grep"].run(
        {"volume": "c", "pattern": CATASTROPHIC, "regex": True}, ctx), HANG_GUARD)
    assert "No line" in result.content
    end = await tools["ctx_grep"].run({"volume": "c", "pattern": r"\Z", "regex": True}, ctx)
    assert not end.is_error


@pytest.mark.parametrize(("pattern", "message"), [
    (r"foo(?=bar)", "look-around"), (r"(a)\1", "backreferences"), (r"a++", "possessive"),
])
async def test_features_re2_lacks_get_a_clear_error(tmp_path: Path, pattern: str,
                                                    message: str) -> None:
    with pytest.raises(ToolError, match=message):
        await Grep().run({"pattern": pattern}, ToolContext(tmp_path, CancelToken()))


async def test_an_invalid_pattern_is_searched_literally(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("call f(x\n")
    result = await Grep().run({"pattern": "f(x"}, ToolContext(tmp_path, CancelToken()))
    assert "searched for the literal text" in result.content and "a.txt:1: call f(x" in result.content


def test_configured_deny_patterns_run_on_re2_too() -> None:
    assert problems(PermissionsConfig(exec_deny=(CATASTROPHIC,)), ToolsConfig()) == []
    (bad,) = problems(PermissionsConfig(exec_deny=("(?=x)",)), ToolsConfig())
    assert bad[0] == "permissions.exec_deny[0]" and "look-around" in bad[1]
    assert deny_reason(IDENT * 4, [CATASTROPHIC]) == ""  # linear: returns at once
    assert "configured deny pattern" in deny_reason("echo " + "a" * 53, [r"^echo (\w+\s?)*$"])
