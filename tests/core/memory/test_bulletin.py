"""The memory briefing: built in the background by the memory model, swapped in whole, persisted
for a warm start, cleared by /clear, and never in the way of a turn."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.core.memory.bulletin import HEADING, Bulletin, BulletinSchedule, checked
from app.core.memory.facts import project_scope
from app.core.memory.hook import memory_of
from app.core.memory.model import FIRST_CALL_S, MemoryModel, MemoryModelError
from app.core.memory.service import Memory
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config, MemoryConfig
from app.runtime.memory import briefing_path, close_memory
from tests.opened_runtime import open_runtime

BRIEF_1 = ("## Active context\nThe user is porting the parser to Rust.\n## Key facts\n- The "
           "user's cat is called Miso.\n## Recent patterns\nAsks for short answers.")
BRIEF_2 = ("## Active context\nThe user is writing release notes.\n## Key facts\n- Deploys "
           "happen on Thursday.\n## Recent patterns\nnone")


def gated(text: str) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=[text[:5], text[5:]], gate_at=1, gate=gate), gate


def seeded(tmp_path: Path) -> tuple[Memory, Path]:
    ws = tmp_path / "proj"
    ws.mkdir(exist_ok=True)
    memory = Memory(tmp_path / "memory.db", MemoryConfig())
    memory.remember("The user's cat is called Miso.", workspace=ws, user=True)
    memory.past.add_turn("s0", project_scope(str(ws)), "t1", "port the parser to Rust", "ok")
    return memory, ws


def test_checked_keeps_the_sections_and_the_word_limit() -> None:
    text = checked("**Active context:**\nA B C\n\n## Key facts\n" + "- x y z\n" * 200, 40)
    assert text.splitlines()[:3] == ["### Active context", "A B C", "### Key facts"]
    assert len(text.split()) <= 42
    with pytest.raises(MemoryModelError):
        checked("Sure! Here is a summary of the user.", 300)


async def test_rebuild_swaps_in_whole_and_persists_for_a_warm_start(tmp_path: Path) -> None:
    memory, ws = seeded(tmp_path)
    reply, gate = gated(BRIEF_1)
    provider = ScriptedProvider([reply])
    path = tmp_path / "state" / "briefing.md"
    bulletin = Bulletin(memory, MemoryModel(lambda: provider, local=False), path, ws)
    assert bulletin.section(8192) == ""
    task = asyncio.ensure_future(bulletin.rebuild())
    await provider.request_seen.wait()
    assert bulletin.building and bulletin.text == ""  # nothing half-built is ever seen
    prompt = provider.requests[0].messages[-1].content
    assert "The user's cat is called Miso." in prompt and "port the parser to Rust" in prompt
    gate.set()
    assert await task
    section = bulletin.section(8192)
    assert section.startswith(HEADING) and "Miso" in section and "### Key facts" in section
    assert path.read_text().strip() == bulletin.text
    warm = Bulletin(memory, None, path, ws)  # the next start: no model call needed
    assert warm.text == bulletin.text and warm.section(8192) == section


async def test_a_failed_rebuild_keeps_the_old_briefing(tmp_path: Path) -> None:
    memory, ws = seeded(tmp_path)
    provider = ScriptedProvider([BRIEF_1, "I cannot help with that."])
    bulletin = Bulletin(memory, MemoryModel(lambda: provider, local=False),
                        tmp_path / "b.md", ws)
    assert await bulletin.rebuild()
    before = bulletin.text
    assert not await bulletin.rebuild()
    assert bulletin.text == before and "sections" in bulletin.last_error


async def test_nothing_remembered_means_no_model_call(tmp_path: Path) -> None:
    provider = ScriptedProvider([BRIEF_1])
    memory = Memory(tmp_path / "m.db", MemoryConfig())
    bulletin = Bulletin(memory, MemoryModel(lambda: provider, local=False), tmp_path / "b.md",
                        tmp_path)
    assert not await bulletin.rebuild()
    assert provider.requests == [] and bulletin.last_error == "nothing remembered yet"


async def test_clear_drops_the_briefing_its_file_and_a_build_under_way(tmp_path: Path) -> None:
    memory, ws = seeded(tmp_path)
    reply, gate = gated(BRIEF_2)
    provider = ScriptedProvider([BRIEF_1, reply])
    path = tmp_path / "b.md"
    bulletin = Bulletin(memory, MemoryModel(lambda: provider, local=False), path, ws)
    assert await bulletin.rebuild() and path.exists()
    provider.request_seen.clear()
    task = asyncio.ensure_future(bulletin.rebuild())
    await provider.request_seen.wait()
    assert bulletin.clear()
    gate.set()
    assert not await task  # built from before the clear: thrown away
    assert bulletin.text == "" and not path.exists() and bulletin.section(8192) == ""


async def test_the_section_stays_within_the_prompt_budget(tmp_path: Path) -> None:
    memory, ws = seeded(tmp_path)
    bulletin = Bulletin(memory, None, tmp_path / "b.md", ws)
    bulletin.text = "### Key facts\n" + "\n".join(f"- fact number {i} " + "word " * 12
                                                  for i in range(60))
    small, large = bulletin.section(2048), bulletin.section(32768)
    assert len(small) < len(large) and len(small) // 4 <= 150 + 40
    assert small.startswith(HEADING)


async def test_the_briefing_never_delays_a_turn(tmp_path: Path) -> None:
    """A rebuild in flight (the memory model stuck) while the user runs turns: the turns finish,
    see the old briefing, and the new one arrives afterwards in the next turn's system prompt."""
    ws = tmp_path / "proj"
    ws.mkdir()
    cfg = Config(memory=MemoryConfig(bulletin=True, bulletin_delay_s=0.0, auto_recall=0))
    main = ScriptedProvider(["first answer", "second answer", "third answer"])
    rt = open_runtime(provider=main, workspace=str(ws), persist=True, config=cfg)
    hook = memory_of(rt.session)
    assert hook is not None and hook.bulletin is not None and hook.schedule is not None
    hook.memory.remember("The user's cat is called Miso.", workspace=ws, user=True)
    slow, gate = gated(BRIEF_1)
    memory_provider = ScriptedProvider([slow])
    hook.bulletin.model = MemoryModel(lambda: memory_provider, local=False)
    hook.bulletin.text = BRIEF_2  # the warm-start briefing
    hook.schedule.yield_to_turns = False  # a remote memory model: no need to step aside
    hook.schedule.start()
    await memory_provider.request_seen.wait()  # the rebuild is under way, and stuck
    outcome = await rt.session.run_turn("hello")
    assert outcome.status == "finished" and outcome.text == "first answer"
    system = main.requests[0].messages[0].content
    assert "release notes" in system and "porting the parser" not in system  # the old one
    assert hook.bulletin.building
    attempt = asyncio.ensure_future(hook.bulletin.next_attempt())
    gate.set()
    await attempt
    assert hook.bulletin.builds == 1
    await rt.session.run_turn("and now?")
    system = main.requests[1].messages[0].content
    assert "porting the parser" in system and "release notes" not in system
    assert briefing_path(ws).read_text().strip() == hook.bulletin.text
    await close_memory(rt.memory)


async def test_a_local_memory_model_steps_aside_for_a_turn_and_retries(tmp_path: Path) -> None:
    memory, ws = seeded(tmp_path)
    stuck, _gate = gated(BRIEF_2)
    provider = ScriptedProvider([stuck, BRIEF_1])
    bulletin = Bulletin(memory, MemoryModel(lambda: provider, local=True), tmp_path / "b.md", ws)
    busy = [False]
    schedule = BulletinSchedule(bulletin, delay_s=0.0, every_s=3600.0, busy=lambda: busy[0],
                                yield_to_turns=True, retry_s=0.0)
    schedule.start()
    await provider.request_seen.wait()
    attempt = asyncio.ensure_future(bulletin.next_attempt())
    busy[0] = True
    schedule.turn("started")  # the user's turn: the build stops at once
    await attempt
    assert "cancelled" in bulletin.last_error and bulletin.text == ""
    attempt = asyncio.ensure_future(bulletin.next_attempt())
    busy[0] = False
    schedule.turn("ended")
    await attempt
    assert "porting the parser" in bulletin.text and bulletin.builds == 1
    assert len(provider.requests) == 2  # nothing started while the turn ran
    await schedule.aclose()


def test_timeouts_follow_the_measured_speed() -> None:
    model = MemoryModel(lambda: ScriptedProvider(), local=True)
    assert model.timeout_for(1000, 600) == FIRST_CALL_S  # unmeasured: may include loading
    model.speed.add(prompt_tokens=1000, completion_tokens=201, first_s=10.0, total_s=30.0)
    assert model.speed.read == 100.0 and model.speed.write == 10.0
    assert model.timeout_for(1000, 600) == pytest.approx(3.0 * (10.0 + 60.0))
    model.speed.add(prompt_tokens=1000, completion_tokens=201, first_s=1.0, total_s=3.0)
    assert model.timeout_for(1000, 600) < 3.0 * 70.0  # faster now: a shorter leash
    assert MemoryModel(lambda: ScriptedProvider(), local=True, timeout_s=45).timeout_for(
        10**6, 10**6) == 45
    assert MemoryModel(lambda: ScriptedProvider(), local=False).timeout_for(10, 10) == 120.0


async def test_clear_in_the_runtime_forgets_the_briefing_for_the_next_turn(
        tmp_path: Path) -> None:
    ws = tmp_path / "proj"
    ws.mkdir()
    path = briefing_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BRIEF_2 + "\n")  # from an earlier run
    main = ScriptedProvider(["a", "b"])
    rt = open_runtime(provider=main, workspace=str(ws), persist=False,
                       config=Config(memory=MemoryConfig(auto_recall=0)))
    await rt.session.run_turn("one")
    assert "release notes" in main.requests[0].messages[0].content  # warm start
    hook = memory_of(rt.session)
    assert hook is not None and hook.bulletin is not None and hook.bulletin.clear()
    await rt.session.run_turn("two")
    assert HEADING not in main.requests[1].messages[0].content and not path.exists()
    await close_memory(rt.memory)
