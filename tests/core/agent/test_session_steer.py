"""A steer is new instructions: it lifts the "answer now, no tools" lock of a repeated call."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.agent.events import Event, Injected
from app.core.agent.session import Session, SessionOptions
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools


async def test_steer_after_a_repeated_call_gets_the_tools_back(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    provider = ScriptedProvider([
        ScriptedReply.call("list_dir", path="."),
        ScriptedReply.call("list_dir", path="."),  # identical: the loop locks to "answer now"
        ScriptedReply.call("read_file", path="README.md"),
        "README says hello.",
    ])
    session = Session(provider, tools=ToolRegistry(default_tools()),
                      options=SessionOptions(workspace=tmp_path))
    seen: list[Event] = []
    steered = asyncio.Event()

    def listen(ev: Event) -> None:
        seen.append(ev)
        # Steer while the second (repeated) call runs, as a user typing during a tool chain.
        if type(ev).__name__ == "ToolCallStarted" and len(provider.requests) == 2:
            session.inject("Stop listing. Read README.md instead.")
            steered.set()

    session.add_listener(listen)
    outcome = await session.run_turn("what is here?")
    assert steered.is_set() and outcome.status == "finished"
    assert any(isinstance(e, Injected) for e in seen)
    third = provider.requests[2]
    assert third.tools and not third.answer_only, "the steer must reach a step that can use tools"
    assert any(m.role == "user" and "Read README.md" in m.content for m in third.messages)
    assert outcome.text == "README says hello."


async def test_without_a_steer_the_repeated_call_still_forces_an_answer(tmp_path: Path) -> None:
    provider = ScriptedProvider([ScriptedReply.call("list_dir", path="."),
                                 ScriptedReply.call("list_dir", path="."), "done"])
    session = Session(provider, tools=ToolRegistry(default_tools()),
                      options=SessionOptions(workspace=tmp_path))
    await session.run_turn("what is here?")
    assert provider.requests[2].answer_only
