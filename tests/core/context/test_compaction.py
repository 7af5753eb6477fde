"""Compaction tiers driven through a real session: 80 % summary, 85 % stubs, 95 % truncation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.agent.events import Notice, TurnFinished
from app.core.agent.messages import Message
from app.core.agent.session import Session, SessionOptions
from app.core.context.compaction import CompactionEvent, ContextManager
from app.core.context.compaction_tiers import REF_RE
from app.core.context.context_gate import Admitted, ContextGate
from app.core.providers.base import ProviderError
from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import ContextConfig
from app.core.store.session_store import SessionStore, history_from_events, read_session
from tests.core.context.compaction_helpers import build, fetch_turn, gated_summary

SUMMARY = "## Task\n- fetch records\n## Decisions\n- none\n## Facts\n- records 1-9 fetched"


class SwitchGate(ContextGate):
    """Once opened, lets every output through raw. The Context Gate would brief a huge output;
    emergency truncation is the backstop for whatever still overfills the window, so it is
    tested with the gate open."""

    opened = False

    def admit(self, content: str, **kwargs: Any) -> Admitted:
        if not self.opened:
            return super().admit(content, **kwargs)
        return Admitted(content, True, chars=len(content), lines=content.count("\n") + 1)


def fired(events: list[object], tier: str, action: str) -> list[CompactionEvent]:
    return [e for e in events if isinstance(e, CompactionEvent) and e.tier == tier
            and e.action == action]


def stubs_in(messages: tuple[Message, ...]) -> list[Message]:
    return [m for m in messages if m.role == "tool" and m.content.startswith("[output of")]


async def test_session_crosses_every_threshold_without_waiting_or_losing(tmp_path: Path) -> None:
    reply, gate = gated_summary(SUMMARY)
    gate_ = SwitchGate(tmp_path / "gate")
    session, provider, memory, manager, events, tool = build(tmp_path, summary_replies=[reply],
                                                             gate=gate_)
    window = manager.effective_window()

    # 80 %: a background summary starts, and it is still running (gated) afterwards.
    n = 0
    while not fired(events, "summary", "started"):
        n += 1
        assert await fetch_turn(session, provider, n) == "finished"
        assert n < 40, "the summary never started"
    watermark = manager.in_flight_upto
    assert manager.task is not None and not manager.task.done()
    assert 0 < watermark <= len(session.history)
    await memory.request_seen.wait()  # the summariser has the history and is generating

    # 85 %: while the summary is still running, turns keep finishing and old outputs get stubs.
    while not fired(events, "mask", "fired"):
        n += 1
        assert await fetch_turn(session, provider, n) == "finished"
        assert n < 60, "masking never fired"
    assert manager.task is not None and not manager.task.done()
    stubbed = stubs_in(provider.requests[-1].messages)
    assert stubbed
    for stub in stubbed:
        (original,) = manager.expand(stub.content)
        assert original.role == "tool" and original.tool_call_id == stub.tool_call_id
        assert original.content == next(m.content for m in session.history
                                        if m.tool_call_id == stub.tool_call_id)
        assert REF_RE.search(stub.content).group("sid") == session.session_id  # type: ignore[union-attr]

    # 95 %: one huge output; the emergency tier fits the request and cites what it cut.
    gate_.opened = True
    n += 1
    assert await fetch_turn(session, provider, n, size=4000) == "finished"
    (cut,) = fired(events, "truncate", "fired")[:1]
    assert cut.tokens_before >= 0.95 * window > cut.tokens_after
    last = provider.requests[-1].messages
    assert manager.last_fraction < 0.95 and last[-1].role in ("tool", "user")
    assert manager.task is not None and not manager.task.done()
    huge = next(m for m in last if m.role == "tool" and "middle cut" in m.content)
    (full,) = manager.expand(huge.content)
    assert full.content == tool.text(n, 4000)

    # The summary finishes; the swap waits for the next turn boundary.
    gate.set()
    await manager.wait_summary()
    assert manager.pending is not None and manager.summary is None
    assert fired(events, "summary", "ready")
    n += 1
    provider.enqueue("All good.")
    await session.run_turn("how far are we?")
    applied = fired(events, "summary", "applied")
    assert applied and applied[0].tokens_after < applied[0].tokens_before
    request = provider.requests[-1].messages
    assert request[0].role == "system" and request[1].role == "summary"
    assert SUMMARY in request[1].content and manager.last_tier in ("summary", "mask")
    # Every message after the watermark is still there, in order; user text verbatim; tool
    # outputs verbatim or as stubs that expand back to the original.
    after = session.history[watermark:-1]  # the last one is the reply to this very request
    sent = [m for m in request[2:] if m.role != "summary"]
    assert len(sent) == len(after) and after[-1].content == "how far are we?"
    for original, got in zip(after, sent, strict=False):
        if got.role == "tool" and got.content != original.content:
            assert manager.expand(got.content)[0].content == original.content
        else:
            assert got == original
    # The summary cites the span it replaced, and that span reads back from the log.
    covered = manager.expand(manager.summary.ref)  # type: ignore[union-attr]
    assert [m.content for m in covered] == [m.content for m in session.history[:watermark]]


async def test_breaker_opens_after_three_failures_and_says_so(tmp_path: Path) -> None:
    bad = [ScriptedReply(error=ProviderError("memory model crashed")) for _ in range(3)]
    session, provider, _, manager, events, _ = build(tmp_path, summary_replies=bad)
    n = 0
    while not manager.breaker_open:
        n += 1
        assert await fetch_turn(session, provider, n) == "finished"
        await manager.wait_summary()
        assert n < 60
    assert len(fired(events, "summary", "failed")) == 3
    notes = [e for e in events if isinstance(e, Notice) and "off after 3 failures" in e.text]
    assert len(notes) == 1
    # No fourth attempt, and the session goes on inside its window.
    for _ in range(6):
        n += 1
        assert await fetch_turn(session, provider, n) == "finished"
    assert len(fired(events, "summary", "started")) == 3
    assert manager.last_fraction < 0.95
    assert isinstance(events[-1], TurnFinished)
    # /compact tries again by hand, and a success closes the breaker.
    provider_of_memory = manager.summarizer
    assert provider_of_memory is not None
    (await provider_of_memory.provider()).enqueue(SUMMARY)  # type: ignore[attr-defined]
    assert manager.compact_now() == "started"
    await manager.wait_summary()
    assert not manager.breaker_open and manager.pending is not None


async def test_hung_summariser_times_out(tmp_path: Path) -> None:
    reply, _gate = gated_summary(SUMMARY)  # never released
    session, provider, _, manager, events, _ = build(tmp_path, summary_replies=[reply],
                                                     timeout_s=0.05)
    n = 0
    while not fired(events, "summary", "started"):
        n += 1
        await fetch_turn(session, provider, n)
    await manager.wait_summary()
    failed = fired(events, "summary", "failed")
    assert "timed out after 0.05 s" in failed[0].detail
    # Not the same piece again: a retry right away, on a smaller one.
    retry = fired(events, "summary", "started")[1]
    assert "retry in a smaller piece" in retry.detail


async def test_summary_longer_than_its_input_is_refused(tmp_path: Path) -> None:
    session, provider, _, manager, events, _ = build(tmp_path, summary_replies=["x" * 50_000])
    n = 0
    while not fired(events, "summary", "started"):
        n += 1
        await fetch_turn(session, provider, n)
    await manager.wait_summary()
    (failed,) = fired(events, "summary", "failed")
    assert "not shorter than its input" in failed.detail and manager.pending is None


async def test_compact_on_demand_and_stubs_survive_a_restart(tmp_path: Path) -> None:
    session, provider, _, manager, events, _ = build(tmp_path, summary_replies=[SUMMARY],
                                                     config=ContextConfig(mask_at=0.2,
                                                                          background_at=0.2))
    for n in range(1, 6):
        await fetch_turn(session, provider, n)
    assert fired(events, "mask", "fired")
    await manager.wait_summary()
    assert session.store is not None
    session.store.close()
    # A fresh process: history and seqs come back from the log, and old refs still expand.
    saved = read_session(session.store.path)
    restored = ContextManager()
    again = Session(provider, tools=session.tools, options=session.options,
                    store=SessionStore(session.store.path),
                    history=history_from_events(saved.events), compaction=restored)
    first_output = next(m for m in again.history if m.role == "tool")
    stub_ref = restored.source(again.history.index(first_output)).ref()
    assert stub_ref.startswith(f"[log {session.session_id}#")
    assert restored.expand(stub_ref)[0].content == first_output.content
    assert restored.compact_now() == "no summariser is configured"


async def test_without_a_log_stubs_cite_history(tmp_path: Path) -> None:
    session, provider, _, manager, _events, _ = build(
        tmp_path, store=False, summarize=False,
        config=ContextConfig(mask_at=0.2, background_at=0.2))
    for n in range(1, 6):
        await fetch_turn(session, provider, n)
    stub = stubs_in(provider.requests[-1].messages)[0]
    assert "[history #" in stub.content
    assert manager.expand(stub.content)[0].tool_call_id == stub.tool_call_id


async def test_no_tier_fires_in_a_short_session(tmp_path: Path) -> None:
    session, provider, _, manager, events, _ = build(tmp_path, window=32768)
    for n in range(1, 4):
        await fetch_turn(session, provider, n)
    assert not [e for e in events if isinstance(e, CompactionEvent)]
    assert manager.last_tier == "" and session.tools.get("expand") is None
    assert SessionOptions().max_tokens == 2048  # the reserve used for the effective window


async def test_a_long_backlog_is_summarised_in_steps_that_fit(tmp_path: Path) -> None:
    session, provider, memory, manager, _events, _ = build(
        tmp_path, window=32768, summary_replies=["part one", "part two"])
    assert manager.summarizer is not None
    manager.summarizer.max_input_tokens = 300  # about two turns per call
    for n in range(1, 7):
        await fetch_turn(session, provider, n)
    assert manager.compact_now() == "started"
    first = manager.in_flight_upto
    await manager.wait_summary()
    assert 0 < first < len(session.history) and session.history[first].role == "user"
    assert manager.compact_now() == "started"  # the next step starts where the first ended
    await manager.wait_summary()
    assert manager.pending is not None and manager.pending.upto > first
    sent = memory.requests[1].messages[-1].content
    assert "Earlier summary (merge it in):\npart one" in sent
    assert "fetch record 1\n" not in sent  # already summarised: not read twice
