"""Long-term memory across sessions, through the runtime a headless run or the app builds: a fact
remembered in one session is recalled in the next; private sessions remember nothing; finished
turns become searchable past sessions; matching facts are noted before the request."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, ToolCallFinished
from app.core.memory.events import MemoryNoted
from app.core.memory.hook import NOTE_HEAD, memory_of
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config, MemoryConfig
from app.runtime.memory import close_memory
from tests.opened_runtime import OpenedRuntime, open_runtime


def runtime(ws: Path, provider: ScriptedProvider, **memory: object) -> OpenedRuntime:
    cfg = Config(memory=MemoryConfig(bulletin=False, **memory))  # type: ignore[arg-type]
    return open_runtime(provider=provider, workspace=str(ws), persist=True, config=cfg)


def results(events: list[Event], name: str) -> list[ToolCallFinished]:
    return [e for e in events if isinstance(e, ToolCallFinished) and e.name == name]


async def test_a_fact_remembered_in_one_session_is_recalled_in_the_next(tmp_path: Path) -> None:
    ws = tmp_path / "project"
    ws.mkdir()
    first = ScriptedProvider([
        ScriptedReply.call("remember", fact="The user's cat is called Miso.", scope="user"),
        "I'll remember that."])
    rt1 = runtime(ws, first, auto_recall=0)
    events1: list[Event] = []
    rt1.session.add_listener(events1.append)
    assert {"remember", "recall"} <= rt1.session.tools.names()
    await rt1.session.run_turn("My cat is called Miso, remember that.")
    done = results(events1, "remember")
    assert done and not done[0].is_error and "Remembered fact #1" in done[0].content
    await close_memory(rt1.memory)  # the app closes; a new run opens the same database

    other_ws = tmp_path / "elsewhere"  # a user fact: seen from another project too
    other_ws.mkdir()
    second = ScriptedProvider([ScriptedReply.call("recall", query="cat name"),
                               "Your cat is Miso."])
    rt2 = runtime(other_ws, second, auto_recall=0)
    assert rt2.session.session_id != rt1.session.session_id
    events2: list[Event] = []
    rt2.session.add_listener(events2.append)
    outcome = await rt2.session.run_turn("What is my cat called?")
    recalled = results(events2, "recall")
    assert recalled and "The user's cat is called Miso." in recalled[0].content
    assert "(user, said today)" in recalled[0].content
    tool_msgs = [m for m in second.requests[-1].messages if m.role == "tool"]
    assert tool_msgs and "Miso" in tool_msgs[-1].content  # the model read it
    assert outcome.text == "Your cat is Miso."
    await close_memory(rt2.memory)


async def test_matching_facts_are_noted_before_the_request_once(tmp_path: Path) -> None:
    ws = tmp_path / "p"
    ws.mkdir()
    seed = ScriptedProvider([ScriptedReply.call("remember", fact="Deploys happen on Thursday"),
                             "ok"])
    rt1 = runtime(ws, seed)
    await rt1.session.run_turn("note: we deploy on Thursdays")
    await close_memory(rt1.memory)

    provider = ScriptedProvider(["Thursday.", "Hello!", "Still Thursday."])
    rt2 = runtime(ws, provider)
    events: list[Event] = []
    rt2.session.add_listener(events.append)
    await rt2.session.run_turn("When do deploys happen?")
    sent = provider.requests[0].messages
    # The harness folds the note into the request, after the workspace map and just before the
    # question, so a small model reads it as part of what it was asked.
    asked = [m for m in sent if m.role == "user" and NOTE_HEAD in m.content]
    assert len(asked) == 1 and not any(m.role == "notice" for m in sent)
    body = asked[0].content
    assert "Deploys happen on Thursday" in body
    assert body.index(NOTE_HEAD) < body.index("When do deploys happen?")
    assert body.endswith("When do deploys happen?")
    assert not any(NOTE_HEAD in m.content for m in rt2.session.history)  # never in history
    assert [e.facts for e in events if isinstance(e, MemoryNoted)] == [
        ("- Deploys happen on Thursday (project, said today)",)]
    await rt2.session.run_turn("hello")  # no content word matches: no note
    assert not any(NOTE_HEAD in m.content for m in provider.requests[1].messages)
    await rt2.session.run_turn("and the deploys again?")  # already noted in this session
    assert not any(NOTE_HEAD in m.content for m in provider.requests[2].messages)
    await close_memory(rt2.memory)


async def test_private_session_remembers_nothing(tmp_path: Path) -> None:
    ws = tmp_path / "p"
    ws.mkdir()
    provider = ScriptedProvider([
        ScriptedReply.call("remember", fact="The vault combination is 4-8-15"), "Not kept."])
    rt = runtime(ws, provider)
    hook = memory_of(rt.session)
    assert hook is not None
    assert "private" in hook.set_private(rt.session, True)
    events: list[Event] = []
    rt.session.add_listener(events.append)
    await rt.session.run_turn("The vault combination is 4-8-15. Remember it.")
    refused = results(events, "remember")
    assert refused and refused[0].is_error and "private" in refused[0].content
    assert hook.memory.facts.count() == 0
    assert hook.memory.past.count() == 0  # the turn was not indexed either
    await close_memory(rt.memory)

    later = ScriptedProvider([ScriptedReply.call("recall", query="vault combination"), "?"])
    rt2 = runtime(ws, later)
    events2: list[Event] = []
    rt2.session.add_listener(events2.append)
    await rt2.session.run_turn("What was the vault combination?")
    found = results(events2, "recall")
    assert found and "4-8-15" not in found[0].content and "Nothing remembered" in found[0].content
    await close_memory(rt2.memory)


async def test_finished_turns_are_searchable_from_the_next_session(tmp_path: Path) -> None:
    ws = tmp_path / "p"
    ws.mkdir()
    rt1 = runtime(ws, ScriptedProvider(["Use the --frozen flag of uv sync for CI builds."]))
    await rt1.session.run_turn("How do I pin dependencies for CI builds?")
    sid = rt1.session.session_id
    await close_memory(rt1.memory)

    provider = ScriptedProvider([ScriptedReply.call("recall", query="CI builds dependencies"),
                                 "As before: uv sync --frozen."])
    rt2 = runtime(ws, provider)
    events: list[Event] = []
    rt2.session.add_listener(events.append)
    await rt2.session.run_turn("What did we decide about CI builds last time?")
    found = results(events, "recall")
    assert found and "From past sessions:" in found[0].content
    assert f"session {sid}" in found[0].content and "--frozen" in found[0].content
    await close_memory(rt2.memory)


async def test_memory_off_means_no_tools_and_no_database(tmp_path: Path) -> None:
    ws = tmp_path / "p"
    ws.mkdir()
    rt = open_runtime(provider=ScriptedProvider(["hi"]), workspace=str(ws), persist=False,
                       config=Config(memory=MemoryConfig(enabled=False)))
    assert memory_of(rt.session) is None and rt.memory is None
    assert not {"remember", "recall"} & rt.session.tools.names()
