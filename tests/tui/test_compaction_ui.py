"""The app keeps taking input while a background summary runs, and /compact reaches the core."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event
from app.core.context.compaction import CompactionEvent
from app.core.context.summarizer import Summarizer
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.tui.app import NanobotApp
from tests.core.context.compaction_helpers import BigOutput, gated_summary
from tests.pilot_wait import until
from tests.tui.harness import blocks, make_factory


async def test_input_is_accepted_while_the_summary_runs(tmp_path: Path) -> None:
    reply, gate = gated_summary("## Task\n- fetch records")
    provider = ScriptedProvider(context_window=2000)
    memory = ScriptedProvider([reply], model="memory-slot", context_window=4096)
    factory = make_factory(tmp_path, provider, tools=lambda: [BigOutput(1000)],
                           summarizer=Summarizer(memory, timeout_s=30.0)).with_options(
        max_tokens=200)
    app = NanobotApp(factory)
    session, manager = app.session, app.session.compaction
    assert manager is not None
    events: list[Event] = []
    session.add_listener(events.append)
    async with app.run_test(size=(100, 30)) as pilot:
        n = 0
        while manager.task is None:
            n += 1
            provider.enqueue(_call(n))
            provider.enqueue(f"Record {n} is fetched.")
            await pilot.press(*f"fetch record {n}", "enter")
            await app.workers.wait_for_complete()
            assert n < 40
        await memory.request_seen.wait()
        await until(pilot, lambda: app.status_bar.background == "summarising",
                    what="the status bar to say a summary runs")
        # The summariser is stuck; the user goes on typing and gets answers.
        for extra in ("one more question", "and another"):
            provider.enqueue(f"answer to {extra}")
            await pilot.press(*extra, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert blocks(app, "user")[-1].text == extra
            assert blocks(app, "assistant")[-1].text == f"answer to {extra}"
            assert manager.task is not None and not manager.task.done()
        gate.set()
        await manager.wait_summary()
        assert manager.pending is not None
        await until(pilot, lambda: blocks(app, "notice")[-1].text.startswith(
            "compaction: summary ready"), what="the summary's outcome in the conversation")
        # /compact is a command, not a turn: it reports what the core did.
        turns_before = len(provider.requests)
        await pilot.press(*"/compact", "enter")
        await pilot.pause()
        assert len(provider.requests) == turns_before
        assert any(b.text.startswith("compact: ") for b in blocks(app, "notice"))
        assert app.session.compaction is manager
        assert [e.action for e in events if isinstance(e, CompactionEvent)
                and e.tier == "summary"][:2] == ["started", "ready"]


def _call(n: int) -> ScriptedReply:
    return ScriptedReply.call("fetch", n=n)


async def test_the_meter_never_shows_more_than_the_window_is_sent(tmp_path: Path) -> None:
    from tests.core.context.test_long_session import NoUsage

    provider = NoUsage(context_window=2000)  # no token counts: the meter relies on estimates
    factory = make_factory(tmp_path, provider, tools=lambda: [BigOutput(600)]).with_options(
        max_tokens=200)
    app = NanobotApp(factory)
    session = app.session
    async with app.run_test(size=(100, 30)) as pilot:
        # Twelve turns stream ~11K characters: counted without a reset, that is ~140% of 2,000.
        for n in range(1, 13):
            provider.enqueue(_call(n))
            provider.enqueue(f"Record {n} is fetched. " + "Some detail about it. " * 40)
            await pilot.press(*f"fetch record {n}", "enter")
            await until(pilot, lambda n=n: session._turns == n and not session.running
                        and not app.busy, what=f"turn {n}")
            await app.settle()
            assert app.meter.percent <= 100.0, f"turn {n}: {app.meter.percent:.0f}%"
        assert app.meter.stored > 2000  # what the session holds is shown apart


async def test_a_failed_summary_says_so_and_the_turn_does_not_wait(tmp_path: Path) -> None:
    from app.core.providers.base import ProviderError

    failing = ScriptedReply(error=ProviderError("memory slot model crashed"))
    provider = ScriptedProvider(context_window=2000)
    memory = ScriptedProvider([failing], model="memory-slot", context_window=4096)
    factory = make_factory(tmp_path, provider, tools=lambda: [BigOutput(1000)],
                           summarizer=Summarizer(memory, timeout_s=30.0)).with_options(
        max_tokens=200)
    app = NanobotApp(factory)
    manager = app.session.compaction
    assert manager is not None
    async with app.run_test(size=(100, 30)) as pilot:
        n = 0
        while not memory.requests:
            n += 1
            provider.enqueue(_call(n))
            provider.enqueue(f"Record {n} is fetched.")
            await pilot.press(*f"fetch record {n}", "enter")
            await app.workers.wait_for_complete()
            assert n < 40
        await manager.wait_summary()
        await until(pilot, lambda: any("the summary failed" in b.text
                                       for b in blocks(app, "notice")),
                    what="the failure in the conversation")
        note = next(b for b in blocks(app, "notice") if "the summary failed" in b.text)
        assert note.level == "warning" and "memory slot model crashed" in note.text
        assert app.status_bar.background == ""
        provider.enqueue("still here")
        await pilot.press(*"next question", "enter")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: blocks(app, "assistant")[-1].text == "still here",
                    what="the next answer")
