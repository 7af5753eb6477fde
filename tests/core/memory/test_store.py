"""The fact store and past-session index on a real SQLite file: merging duplicates, scopes, search,
decay, privacy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.memory.facts import DAY, USER, Source, project_scope, similarity, weight
from app.core.memory.service import Memory
from app.core.memory.store import MemoryInputError
from app.core.settings.config import MemoryConfig


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def open_memory(tmp_path: Path, clock: Clock, **cfg: object) -> Memory:
    return Memory(tmp_path / "memory.db", MemoryConfig(**cfg), clock=clock)  # type: ignore[arg-type]


def test_same_fact_twice_merges_and_keeps_both_sources(tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock)
    ws = tmp_path / "proj"
    first = mem.remember("The user's dog is named Rex.", workspace=ws,
                         source=Source("s1", "t1", clock.t))
    clock.t += DAY
    again = mem.remember("the user's DOG is named rex", workspace=ws,
                         source=Source("s2", "t4", clock.t))
    assert not first.merged and again.merged
    assert again.fact.id == first.fact.id and mem.facts.count() == 1
    assert [s.session_id for s in again.fact.sources] == ["s1", "s2"]
    assert again.fact.updated == clock.t and again.fact.text == "The user's dog is named Rex."


def test_near_duplicate_merges_but_a_different_fact_does_not(tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock, merge_similarity=0.75)
    ws = tmp_path / "proj"
    a = mem.remember("The project uses pytest for its tests", workspace=ws)
    b = mem.remember("The project uses pytest for tests.", workspace=ws)
    assert b.fact.text == "The project uses pytest for tests."  # the newer wording
    c = mem.remember("The project uses ruff for linting", workspace=ws)
    assert b.merged and b.fact.id == a.fact.id
    assert not c.merged and mem.facts.count() == 2
    assert similarity("uses pytest for tests", "uses ruff for linting") < 0.75


def test_scopes_user_facts_reach_every_project(tmp_path: Path) -> None:
    mem = open_memory(tmp_path, Clock())
    one, two = tmp_path / "one", tmp_path / "two"
    mem.remember("My favourite editor is Helix", workspace=one, user=True)
    mem.remember("This service listens on port 8443", workspace=one)
    found_two = mem.recall("editor port", workspace=two)
    assert [h.fact.text for h in found_two.facts] == ["My favourite editor is Helix"]
    found_one = mem.recall("editor port", workspace=one)
    assert {h.fact.scope for h in found_one.facts} == {USER, project_scope(str(one))}


def test_search_ranks_relevant_first_and_counts_use(tmp_path: Path) -> None:
    mem = open_memory(tmp_path, Clock())
    ws = tmp_path / "p"
    for text in ("The staging database is Postgres 16", "The user prefers tabs over spaces",
                 "Deploys go out on Thursdays", "The user's dogs are called Rex and Fido"):
        mem.remember(text, workspace=ws)
    found = mem.recall("what are my dog's names", workspace=ws)  # stemming: dog ~ dogs
    assert found.facts[0].fact.text == "The user's dogs are called Rex and Fido"
    fact = mem.facts.get(found.facts[0].fact.id)
    assert fact is not None and fact.uses == 1
    assert not mem.recall("kubernetes", workspace=ws)
    with pytest.raises(MemoryInputError):
        mem.facts.search("x", [USER], mode="fuzzy")


def test_old_unused_facts_decay_and_are_forgotten_but_used_or_pinned_ones_stay(
        tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock, half_life_days=30.0, forget_below=0.1)
    ws = tmp_path / "p"
    old = mem.remember("The old build server was called Hermes", workspace=ws).fact
    used = mem.remember("The CI runs on GitHub Actions", workspace=ws).fact
    pinned = mem.remember("The user is called Ada", workspace=ws).fact
    mem.facts.set_pinned(pinned.id, True)
    clock.t += 60 * DAY
    assert mem.recall("CI Actions", workspace=ws).facts[0].fact.id == used.id  # used: refreshed
    stale = mem.facts.get(old.id)
    assert stale is not None and 0.2 < weight(stale, clock.t, 30.0) < 0.3
    clock.t += 50 * DAY  # old: 110 days unused -> weight ~0.08; used: 50 days -> ~0.37
    gone = mem.maintain()
    assert [f.id for f in gone] == [old.id]
    assert {f.id for f in mem.facts.all()} == {used.id, pinned.id}


def test_decay_ranks_a_fresh_fact_above_a_stale_equal_match(tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock)
    ws = tmp_path / "p"
    mem.remember("The API port is 8080", workspace=ws)
    clock.t += 90 * DAY
    mem.remember("The API port was moved to 9090", workspace=ws)
    hits = mem.recall("API port", workspace=ws).facts
    assert hits[0].fact.text == "The API port was moved to 9090"


def test_edit_delete_and_empty_facts(tmp_path: Path) -> None:
    mem = open_memory(tmp_path, Clock())
    ws = tmp_path / "p"
    f = mem.remember("The user lives in Lyon", workspace=ws).fact
    edited = mem.facts.edit(f.id, "The user lives in Lille")
    assert edited.text == "The user lives in Lille"
    assert mem.recall("Lille", workspace=ws).facts and not mem.recall("Lyon", workspace=ws).facts
    mem.facts.delete(f.id)
    assert mem.facts.count() == 0
    with pytest.raises(MemoryInputError):
        mem.facts.delete(f.id)
    with pytest.raises(MemoryInputError):
        mem.remember("  ...  ", workspace=ws)


def test_private_session_drops_what_it_gave_and_is_never_indexed(tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock)
    ws = tmp_path / "p"
    scope = project_scope(str(ws))
    mem.remember("The launch code name is Bluebird", workspace=ws, source=Source("secret", "t1"))
    mem.remember("Releases are tagged vX.Y", workspace=ws, source=Source("secret", "t1"))
    mem.remember("Releases are tagged vX.Y", workspace=ws, source=Source("open", "t2"))
    mem.past.add_turn("secret", scope, "t1", "what is bluebird", "the launch code name")
    note = mem.set_private("secret", True)
    assert "dropped 1 fact(s) and 2 indexed message(s)" in note
    assert [f.text for f in mem.facts.all()] == ["Releases are tagged vX.Y"]
    assert not mem.past.add_turn("secret", scope, "t2", "more bluebird", "answer")
    assert not mem.recall("bluebird", workspace=ws)
    assert mem.is_private("secret") and not mem.is_private("open")


def test_past_sessions_are_searchable_and_the_current_one_is_left_out(tmp_path: Path) -> None:
    clock = Clock()
    mem = open_memory(tmp_path, clock)
    ws = tmp_path / "p"
    scope = project_scope(str(ws))
    mem.past.add_turn("s1", scope, "t1", "why does the parser choke on tabs?",
                      "The tokenizer treats tabs as 8 spaces.")
    clock.t += 60
    mem.past.add_turn("s2", scope, "t1", "hello", "hi")
    found = mem.recall("parser tabs", workspace=ws, exclude_session="s2")
    assert {(t.session_id, t.role) for t in found.turns} == {("s1", "user"), ("s1", "assistant")}
    assert not mem.recall("parser tabs", workspace=ws, exclude_session="s1").turns
    assert "From past sessions:" in mem.render(found)
    digests = mem.past.recent([scope], sessions=5)
    assert [d.session_id for d in digests] == ["s2", "s1"]
    assert digests[1].requests == ["why does the parser choke on tabs?"]


def test_semantic_mode_fuses_embeddings_with_bm25(tmp_path: Path) -> None:
    """With an embedder (the dense layer) auto mode fuses both rankings; a fact sharing no word
    with the query is found by meaning alone."""
    vocab = {"canine": 0, "dog": 0, "pet": 0, "rex": 0, "money": 1, "invoice": 1, "bill": 1}

    def embed(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 3), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().replace(".", " ").replace("?", " ").split():
                out[i, vocab.get(w, 2)] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    mem = Memory(tmp_path / "m.db", MemoryConfig(), embed=embed)
    ws = tmp_path / "p"
    mem.remember("Rex is the family dog", workspace=ws)
    mem.remember("The invoice goes out monthly", workspace=ws)
    sem = mem.recall("canine pet", workspace=ws, mode="semantic", sessions=False)
    assert sem.facts[0].fact.text == "Rex is the family dog" and sem.facts[0].how == "dense"
    assert not mem.recall("canine pet", workspace=ws, mode="keyword", sessions=False)
    auto = mem.recall("the dog bill", workspace=ws, mode="auto", sessions=False)
    assert {h.how for h in auto.facts} <= {"bm25+dense", "dense", "bm25"}
    assert any("bm25" in h.how and "dense" in h.how for h in auto.facts)
