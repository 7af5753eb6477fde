"""The ctx tools as the agent calls them, and the retrieval-first planner in the real loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.context_store.ingest import ingest
from app.core.context_store.planner import RetrievalFirstProvider, grep_pattern, key_terms
from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import MAX_SLICE_LINES, ctx_tools
from app.core.providers.scripted import ScriptedProvider
from app.core.tools.base import ToolContext, ToolError, ToolRegistry, ToolResult


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "code.py").write_text("".join(f"x_{i} = {i}\n" for i in range(600)))
    (src / "notes.md").write_text("Intro.\nOne of the special magic numbers for amber-heron-17 is: "
                                  "5550123.\nOne of the special magic numbers for amber-heron-71 "
                                  "is: 9990000.\nThe harbour office opens at nine.\n")
    ingest([src], "c", tmp_path / "vols")
    return VolumeStore(tmp_path / "vols")


async def call(store: VolumeStore, name: str, **args: Any) -> ToolResult:
    tools = {t.spec.name: t for t in ctx_tools(store)}
    return await tools[name].run(args, ToolContext(Path("."), CancelToken()))


def test_no_tools_until_a_volume_exists(tmp_path: Path) -> None:
    assert ctx_tools(VolumeStore(tmp_path / "none")) == []
    assert len(ctx_tools(VolumeStore(tmp_path / "none"), always=True)) == 4


async def test_grep_search_slice_info(store: VolumeStore) -> None:
    g = await call(store, "ctx_grep", volume="c", pattern="amber-heron-17")
    assert g.content.splitlines()[1] == ("602: corpus/notes.md:2: One of the special magic numbers "
                                         "for amber-heron-17 is: 5550123.")
    s = await call(store, "ctx_search", volume="c", query="harbour office", k=2)
    assert "corpus/notes.md" in s.content and "best line 604: The harbour office" in s.content
    assert s.meta["hits"][0]["best_line"] == 604
    sl = await call(store, "ctx_slice", volume="c", line_start=600, line_end=601)
    assert sl.content.splitlines() == ["--- corpus/code.py (file line 600) ---", "600: x_599 = 599",
                                       "--- corpus/notes.md (file line 1) ---", "601: Intro."]
    info = await call(store, "ctx_info", volume="c")
    assert "Volume 'c':" in info.content and "2 files" in info.content
    listing = await call(store, "ctx_info")
    assert listing.content.startswith("c: 2 files")


async def test_slice_is_capped_with_a_visible_note(store: VolumeStore) -> None:
    r = await call(store, "ctx_slice", volume="c", line_start=1, line_end=5000)
    assert r.meta["capped"] and r.meta["line_end"] == MAX_SLICE_LINES
    assert r.content.splitlines()[-1].startswith(f"[capped: showed lines 1-{MAX_SLICE_LINES} of "
                                                 "the 1-5000 asked")
    end = await call(store, "ctx_slice", volume="c", line_start=603, line_end=700)
    assert end.content.splitlines()[-1] == "[end of volume: it has 604 lines]"


@pytest.mark.parametrize(("name", "args", "message"), [
    ("ctx_slice", {"volume": "c", "line_start": 0, "line_end": 3}, "bad line range"),
    ("ctx_slice", {"volume": "c", "line_start": 9000, "line_end": 9001}, "past the end"),
    ("ctx_slice", {"volume": "c", "line_start": "x", "line_end": 2}, "must be an integer"),
    ("ctx_grep", {"volume": "c", "pattern": "(", "regex": True}, "bad regular expression"),
    ("ctx_grep", {"volume": "zz", "pattern": "a"}, "no volume named 'zz'; volumes: c"),
    ("ctx_search", {"volume": "c", "query": "  "}, "query is required"),
])
async def test_errors_the_model_can_act_on(store: VolumeStore, name: str, args: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(ToolError, match=message):
        await call(store, name, **args)


def test_key_terms_and_pattern() -> None:
    assert key_terms("What is the special magic number for amber-heron-17?") == ["amber-heron-17"]
    assert key_terms("Where is 'retry budget' set?") == ["retry budget"]
    assert key_terms("What digits unlock the entrance in Dresden?") == []
    import re

    pat = re.compile(grep_pattern("amber-heron-17"))
    assert pat.search("for amber-heron-17 is") and not pat.search("amber-heron-170")


async def test_planner_runs_grep_then_slice_then_reads(store: VolumeStore) -> None:
    reader = ScriptedProvider(["5550123"])
    planner = RetrievalFirstProvider(reader, "c", window=1)
    session = Session(planner, tools=ToolRegistry(ctx_tools(store)),
                      options=SessionOptions(max_tokens=32))
    calls: list[ToolCallStarted] = []

    def listen(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            calls.append(ev)

    session.add_listener(listen)
    out = await session.run_turn("What is the special magic number for amber-heron-17?")
    assert out.text == "5550123"
    assert [c.name for c in calls] == ["ctx_grep", "ctx_slice"]
    assert calls[0].arguments["pattern"] == "amber-heron-17"
    assert calls[1].arguments == {"volume": "c", "line_start": 601, "line_end": 603}
    prompt = reader.requests[0].messages[-1].content
    assert "amber-heron-17 is: 5550123." in prompt and "x_599" not in prompt
    assert reader.requests[0].tools == ()  # the reader never sees tools


async def test_planner_drops_look_alike_grep_hits(tmp_path: Path) -> None:
    src = tmp_path / "la"
    src.mkdir()
    (src / "a.txt").write_text("The code for lunar-comet-35 is: 111.\n" + "filler\n" * 50
                               + "The code for lunar-comet-3 is: 222.\n")
    ingest([src], "la", tmp_path / "vols2")
    store = VolumeStore(tmp_path / "vols2")
    reader = ScriptedProvider(["222"])
    planner = RetrievalFirstProvider(reader, "la", window=0)
    session = Session(planner, tools=ToolRegistry(ctx_tools(store)))
    await session.run_turn("What is the code for lunar-comet-3?")
    assert "lunar-comet-3 is: 222." in planner.last_prompt
    assert "lunar-comet-35" not in planner.last_prompt  # a substring hit, not the whole token


async def test_planner_falls_back_to_search(store: VolumeStore) -> None:
    reader = ScriptedProvider(["nine"])
    planner = RetrievalFirstProvider(reader, "c", window=0, max_windows=1)
    session = Session(planner, tools=ToolRegistry(ctx_tools(store)))
    names: list[str] = []
    session.add_listener(lambda ev: names.append(ev.name) if isinstance(ev, ToolCallStarted)
                         else None)
    await session.run_turn("When does the harbour office open?")
    assert names == ["ctx_search", "ctx_slice"]
    assert "The harbour office opens at nine." in planner.last_prompt


def test_default_registry_gains_ctx_tools_once_a_volume_exists(tmp_path: Path) -> None:
    from app.core.context_store.store import default_root
    from app.runtime.build import default_registry

    assert "ctx_search" not in default_registry().names()
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("hello\n")
    ingest([tmp_path / "d"], "mine", default_root())
    registry = default_registry()
    assert {"ctx_search", "ctx_grep", "ctx_slice", "ctx_info", "read_file"} <= registry.names()
    spec = next(s for s in registry.specs() if s.name == "ctx_search")
    assert "Volumes: mine." in spec.description
