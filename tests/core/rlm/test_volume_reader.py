"""The volume reader over a real ingested volume, with a scripted model: hops, every value,
counts, absent keys, bridging terms fused by rank."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.context_store.ingest import ingest
from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import ctx_tools
from app.core.providers.scripted import ScriptedProvider
from app.core.rlm.expand import entities, parse_terms
from app.core.rlm.volume_reader import VolumeReader, extreme_answer
from app.core.tools.base import ToolRegistry

FILLER = "".join(f"The committee reviewed item {i} without further changes.\n" for i in range(400))


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "a.md").write_text(FILLER + "VAR qzv41 = 73914\n" + FILLER
                              + "One of the special magic numbers for amber-heron-17 is: 111.\n")
    (src / "b.md").write_text(FILLER + "VAR mrk07 = VAR qzv41\n" + FILLER
                              + "VAR abc12 = VAR mrk07\n"
                              + "One of the special magic numbers for amber-heron-17 is: 222.\n"
                              + "".join(f"ERROR code E-4417 at step {i}\n" for i in range(7))
                              + "Yuki lives beside the Eiffel Tower; the door code is 4242.\n")
    ingest([src], "v", tmp_path / "vols")
    return VolumeStore(tmp_path / "vols")


async def ask(store: VolumeStore, question: str, *replies: str,
              expand: bool = False) -> tuple[str, VolumeReader, ScriptedProvider, list[str]]:
    model = ScriptedProvider(list(replies))
    reader = VolumeReader(model, "v", window=0, expand=expand)
    session = Session(reader, tools=ToolRegistry(ctx_tools(store, always=True)),
                      options=SessionOptions(max_iterations=24, max_tokens=64))
    calls: list[str] = []

    def seen(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            calls.append(f"{ev.name} {ev.arguments.get('pattern') or ev.arguments.get('query') or ''}")

    session.add_listener(seen)
    outcome = await session.run_turn(question)
    return outcome.text, reader, model, calls


async def test_hops_along_references_before_the_model_reads(store: VolumeStore) -> None:
    text, reader, model, calls = await ask(store, "What is the value of the variable abc12?",
                                           "73914")
    assert reader.hops == [("abc12", "mrk07"), ("mrk07", "qzv41")]
    assert [c for c in calls if c.startswith("ctx_grep")] == [
        "ctx_grep abc12", "ctx_grep mrk07", "ctx_grep qzv41"]
    assert len(model.requests) == 1  # only the last link is read by the model
    prompt = model.requests[0].messages[1].content
    assert "VAR qzv41 = 73914" in prompt and "qzv41" in prompt.splitlines()[-1]
    assert text == "73914"


async def test_every_value_of_a_key_is_read(store: VolumeStore) -> None:
    _text, _reader, model, _calls = await ask(
        store, "What are all the special magic numbers for amber-heron-17?", "111, 222")
    prompt = model.requests[0].messages[1].content
    assert "is: 111." in prompt and "is: 222." in prompt
    assert "'amber-heron-17' is in 2 line(s)" in prompt


async def test_counts_reach_the_reader(store: VolumeStore) -> None:
    _text, _reader, model, _calls = await ask(
        store, "How many lines report the error code E-4417?", "7")
    assert "'E-4417' is in 7 line(s)" in model.requests[0].messages[1].content


async def test_a_choice_by_count_is_computed_without_the_model(store: VolumeStore) -> None:
    text, _reader, model, calls = await ask(
        store, "Which of E-4417 and amber-heron-17 occurs most often?")
    assert text == "E-4417: it is in 7 lines, more than any other."
    assert model.requests == []
    assert {c for c in calls if c.startswith("ctx_grep")} == {"ctx_grep E-4417",
                                                              "ctx_grep amber-heron-17"}
    text, *_ = await ask(store, "Which of E-4417 and amber-heron-17 occurs least often?")
    assert text.startswith("amber-heron-17: it is in 2 lines, fewer")


def test_extreme_answers_need_one_extreme_and_no_tie() -> None:
    counts = {"E-1": 4, "E-2": 9, "E-3": 9}
    assert extreme_answer("Which of E-1, E-2, E-3 is most frequent?", counts) == ""  # a tie
    assert extreme_answer("Which of E-1, E-2, E-3 is least frequent?", counts).startswith("E-1")
    assert extreme_answer("How many lines hold E-1, E-2 or E-3?", counts) == ""
    assert extreme_answer("Which is more or less common, E-1 or E-2?", counts) == ""


async def test_an_absent_key_is_not_found_without_the_model(store: VolumeStore) -> None:
    text, _reader, model, _calls = await ask(
        store, "What is the special magic number for amber-heron-71?")
    assert text.startswith("not found") and "amber-heron-71" in text
    assert model.requests == []


async def test_bridging_terms_are_searched_and_fused(store: VolumeStore) -> None:
    text, reader, model, calls = await ask(
        store, "What digits unlock the entrance of the person residing in Paris?",
        "Paris: Eiffel Tower; Louvre; Montmartre", "4242", expand=True)
    q = "What digits unlock the entrance of the person residing in Paris?"
    assert reader.expansions[q] == ["Eiffel Tower", "Louvre", "Montmartre"]
    searches = [c for c in calls if c.startswith("ctx_search")]
    assert searches[0] == f"ctx_search {q}" and "Eiffel Tower Louvre Montmartre" in searches[1]
    assert "ctx_search Eiffel Tower" in searches
    read = model.requests[-1].messages[1].content
    assert "Eiffel Tower; the door code is 4242" in read
    assert "Terms related to the question: Eiffel Tower; Louvre; Montmartre" in read
    assert text == "4242"


def test_term_parsing() -> None:
    q = "Which person lives in Paris?"
    assert parse_terms("Paris: Eiffel Tower; Louvre. lives: rents; 12345; Paris", q) == [
        "Eiffel Tower", "Louvre", "rents"]
    assert entities("What digits unlock the door of the person in New York City?") == [
        "New York City"]


async def test_ctx_ask_gives_the_agent_the_whole_loop(store: VolumeStore, tmp_path: Path) -> None:
    from app.core.agent.cancel import CancelToken
    from app.core.rlm.ctx_ask import CtxAsk, offer_ctx_ask
    from app.core.settings.config import Config
    from app.core.tools.base import ToolContext
    from app.runtime.factory import SessionFactory

    model = ScriptedProvider(["73914"])
    helper = SessionFactory(Config(), model).helper
    tool = CtxAsk(store, lambda: model, helper)
    result = await tool.run({"volume": "v", "question": "What is the value of abc12?"},
                            ToolContext(tmp_path, CancelToken()))
    assert result.content.startswith("73914\n(followed abc12 -> mrk07 -> qzv41)")
    assert "VAR qzv41 = 73914" in result.content
    registry = ToolRegistry()
    offer_ctx_ask(registry, VolumeStore(tmp_path / "none"), lambda: model, helper)
    assert registry.get("ctx_ask") is None  # no volume, no tool
    offer_ctx_ask(registry, store, lambda: model, helper)
    assert registry.get("ctx_ask") is not None
