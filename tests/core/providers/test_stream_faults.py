"""Strict streams against a fault-injecting server: nothing passes for an answer that is not one.

Every fault of :mod:`tests.fault_server` through the real HTTP provider and the fallback chain:
bad replies fall back (or fail loudly when alone), odd but complete replies come through whole,
transient failures are retried on the same server and replace the text already streamed.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import user
from app.core.providers.base import (
    FinishChunk,
    NoticeChunk,
    ProviderError,
    ProviderRequest,
    TextChunk,
)
from app.core.providers.fallback import FallbackProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.openai_stream import PIECE_SLACK, StreamLimits
from app.core.providers.resilience import BreakerBoard, RetryPolicy
from tests.fault_server import (
    ANSWER,
    BAD,
    QUIRKY,
    TRANSIENT,
    FaultServer,
    answer,
    fault_server,
)

LIMITS = StreamLimits(first_byte_s=1.5, idle_s=1.5, notice_after_s=0.3)


async def no_sleep(delay: float, cancel: CancelToken) -> bool:
    return False


def http(server: FaultServer, name: str) -> OpenAIHTTPProvider:
    return OpenAIHTTPProvider(server.base_url, "m", name=name, limits=LIMITS)


async def collect(provider: Any, max_tokens: int | None = None) -> tuple[str, list[NoticeChunk],
                                                                         list[object]]:
    """The reply text as a user would end up with it (a restart discards what came before)."""
    text: list[str] = []
    notes: list[NoticeChunk] = []
    events: list[object] = []
    request = ProviderRequest(messages=(user("what is the answer?"),), max_tokens=max_tokens)
    async for ev in provider.stream(request, CancelToken()):
        events.append(ev)
        if isinstance(ev, NoticeChunk):
            notes.append(ev)
            if ev.restart:
                text.clear()
        elif isinstance(ev, TextChunk):
            text.append(ev.text)
    return "".join(text), notes, events


@pytest.mark.parametrize("fault", list(BAD), indirect=True)
async def test_a_bad_reply_falls_back_with_a_notice(fault: FaultServer) -> None:
    with fault_server(answer) as good:
        chain = FallbackProvider([http(fault, "flaky"), http(good, "good")], sleep=no_sleep)
        text, notes, _ = await collect(chain)
    assert text == ANSWER
    assert any("continuing on good" in n.text for n in notes), [n.text for n in notes]
    assert chain.active.name == "good"


@pytest.mark.parametrize("fault", list(BAD), indirect=True)
async def test_a_bad_reply_alone_is_an_error_never_an_answer(fault: FaultServer) -> None:
    with pytest.raises(ProviderError) as info:
        await collect(FallbackProvider([http(fault, "flaky")], sleep=no_sleep))
    assert "flaky" in str(info.value)


@pytest.mark.parametrize("fault", list(QUIRKY), indirect=True)
async def test_an_odd_but_whole_reply_comes_through_whole(fault: FaultServer) -> None:
    text, notes, events = await collect(http(fault, "odd"))
    assert text == ANSWER
    assert isinstance(events[-1], FinishChunk) and events[-1].reason == "stop"
    assert not notes


@pytest.mark.parametrize("fault", list(TRANSIENT), indirect=True)
async def test_a_transient_failure_is_retried_on_the_same_server(fault: FaultServer) -> None:
    text, notes, _ = await collect(FallbackProvider([http(fault, "flaky")], sleep=no_sleep))
    assert text == "half done"  # replaced, not appended to what the first try sent
    retry = next(n for n in notes if "retrying" in n.text)
    assert "(try 2 of 3)" in retry.text
    assert len(fault.requests) == 2


@pytest.mark.parametrize("fault", ["silent", "silent_after_head"], indirect=True)
async def test_a_silent_server_gets_a_waiting_notice_then_a_clear_error(
        fault: FaultServer) -> None:
    chain = FallbackProvider([http(fault, "mute")], sleep=no_sleep,
                             policy=RetryPolicy(max_retries=0))
    notes: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for ev in chain.stream(ProviderRequest(messages=(user("hi"),)), CancelToken()):
            if isinstance(ev, NoticeChunk):
                notes.append(ev.text)
    assert any(n.startswith("waiting for mute: nothing received") for n in notes), notes
    assert "no data for" in str(info.value) and "limit 1.5 s" in str(info.value)


@pytest.mark.parametrize("fault", ["endless"], indirect=True)
async def test_an_endless_stream_is_cut_at_max_tokens(fault: FaultServer) -> None:
    text, notes, events = await collect(http(fault, "chatty"), max_tokens=50)
    pieces = sum(isinstance(e, TextChunk) for e in events)
    assert 50 < pieces <= 50 + PIECE_SLACK + 1
    assert isinstance(events[-1], FinishChunk) and events[-1].reason == "length"
    assert any("past max_tokens (50)" in n.text for n in notes)
    assert text.startswith("la la")


@pytest.mark.parametrize("fault", ["always_503"], indirect=True)
async def test_retry_notices_count_the_tries_the_breaker_allows(fault: FaultServer) -> None:
    chain = FallbackProvider([http(fault, "busy")], sleep=no_sleep,
                             policy=RetryPolicy(max_retries=3), breakers=BreakerBoard(threshold=3))
    notes: list[str] = []
    with pytest.raises(ProviderError):
        async for ev in chain.stream(ProviderRequest(messages=(user("hi"),)), CancelToken()):
            if isinstance(ev, NoticeChunk):
                notes.append(ev.text)
    tries = [n for n in notes if "retrying" in n]
    assert [t[t.index("(try"):] for t in tries] == ["(try 2 of 3)", "(try 3 of 3)"]
    assert len(fault.requests) == 3


@pytest.mark.parametrize("fault", ["bare_done"], indirect=True)
async def test_raw_sampling_may_take_an_empty_reply(fault: FaultServer) -> None:
    events = [ev async for ev in http(fault, "sampler").stream(
        ProviderRequest(messages=(user("x"),), allow_empty=True), CancelToken())]
    assert [type(e).__name__ for e in events] == ["FinishChunk"]
