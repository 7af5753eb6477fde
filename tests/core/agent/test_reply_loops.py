"""A reply that falls into a loop (the same block over and over) is stopped after the first copy,
instead of filling max_tokens."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, Notice
from app.core.agent.reply import loop_start
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.base import ToolRegistry


def test_a_loop_is_found_where_it_starts() -> None:
    text = "intro. " + "The answer is 42 because it is. " * 12
    assert text[:loop_start(text)] == "intro. The answer is 42 because it is. "
    # Short repeats and ordinary code are not loops.
    assert loop_start("print(1)\nprint(2)\n" * 3) == -1
    assert loop_start("a normal answer with no loop in it at all.") == -1
    assert loop_start("") == -1


async def test_a_looping_reply_is_cut_and_the_turn_goes_on(tmp_path: Path) -> None:
    looping = "Here it is. " + "I will write the file now. " * 80
    provider = ScriptedProvider([ScriptedReply.text(looping, piece=3)] * 2)
    provider.capabilities = Capabilities(small=True)
    session = Session(provider, tools=ToolRegistry([]), options=SessionOptions(workspace=tmp_path))
    events: list[Event] = []
    session.add_listener(events.append)
    out = await session.run_turn("Write it.")
    assert out.status == "finished"
    assert out.text == "Here it is. I will write the file now."
    assert any(isinstance(e, Notice) and "repeating itself" in e.text for e in events)
    assert session.history[-1].content == out.text
    # A model not marked small means what it repeats.
    provider.capabilities = Capabilities(small=False)
    assert (await session.run_turn("Again.")).text == looping
