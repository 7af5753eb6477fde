"""Fallback on real servers: two real llama_cpp.server instances in a fallback chain; the first dies
mid-stream, the turn completes on the second, the user sees why, and the watchdog restarts the
first."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event, Notice, ReplyRestarted, TextDelta, TurnFinished
from app.core.agent.messages import Message
from app.core.agent.session import Session, SessionOptions
from app.core.models.server import Backoff, ManagedServer, ServerSpec, ServerState, ServerStatus
from app.core.providers.base import ProviderRequest, TextChunk
from app.core.providers.fallback import FallbackProvider
from app.core.providers.openai_http import OpenAIHTTPProvider


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.model
async def test_kill_first_server_mid_stream_turn_finishes_on_second(model_path: Path,
                                                                    tmp_path: Path) -> None:
    spec = ServerSpec(model_path=model_path, context=1024, threads=1)
    first = ManagedServer("local-a", spec, log_dir=tmp_path, backoff=Backoff(initial=0.2))
    second = ManagedServer("local-b", spec, log_dir=tmp_path)
    restarted = asyncio.Event()

    def watch(st: ServerStatus) -> None:
        if st.state is ServerState.READY and st.restarts >= 1:
            restarted.set()

    first.add_listener(watch)
    await asyncio.gather(first.start(), second.start())
    pids: list[int] = []
    try:
        a = OpenAIHTTPProvider(first.base_url, model_path.stem, name="local-a",
                               context_window=1024)
        b = OpenAIHTTPProvider(second.base_url, model_path.stem, name="local-b",
                               context_window=1024)
        chain = FallbackProvider([a, b], role="main")
        session = Session(chain, options=SessionOptions(workspace=tmp_path, max_tokens=80,
                                                        temperature=0.0))
        events: list[Event] = []

        def on_event(ev: Event) -> None:
            events.append(ev)
            if isinstance(ev, TextDelta) and not pids:
                pids.append(first.kill_process())  # the first server dies mid-reply

        session.add_listener(on_event)
        outcome = await session.run_turn("Count from 1 to 20, separated by commas.")

        assert pids, "the first server never streamed a token"
        assert outcome.status == "finished", outcome.error
        assert "1, 2, 3" in outcome.text
        notices = [e.text for e in events if isinstance(e, Notice)]
        assert any("local-a" in n and "failed mid-reply" in n and "continuing on local-b" in n
                   for n in notices), notices
        restart_at = next(i for i, e in enumerate(events) if isinstance(e, ReplyRestarted))
        after = "".join(e.text for e in events[restart_at:] if isinstance(e, TextDelta))
        assert after.strip() == outcome.text.strip()  # the reply came whole from the second
        assert isinstance(events[-1], TurnFinished) and chain.active is b
        assert [m.content for m in session.history if m.role == "assistant"] == [outcome.text]

        async with asyncio.timeout(120):
            await restarted.wait()
        assert not alive(pids[0]) and first.pid != pids[0]
        assert first.status.restarts == 1
        req = ProviderRequest(messages=(Message(role="user", content="Say OK."),), max_tokens=8)
        again = [ev.text async for ev in a.stream(req, CancelToken())
                 if isinstance(ev, TextChunk)]
        assert "".join(again).strip()  # the restarted first server answers again
        await chain.aclose()
    finally:
        live = [p for p in (first.pid, second.pid) if p]
        await asyncio.gather(first.stop(), second.stop())
    assert not any(alive(p) for p in live)
