"""Retry, circuit breakers and fallback chains over real HTTP (scripted SSE servers)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Notice, ReplyRestarted, TextDelta, TurnFinished
from app.core.agent.messages import Message
from app.core.agent.session import Session, SessionOptions
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    NoticeChunk,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    TextChunk,
)
from app.core.providers.fallback import FallbackProvider, cancellable_sleep
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.resilience import BreakerBoard, BreakerState, CircuitBreaker, RetryPolicy
from app.core.providers.scripted import ScriptedProvider
from tests.servers import free_port, sse, sse_server

REQ = ProviderRequest(messages=(Message(role="user", content="hi"),))


class Sleeps:
    """Records backoff delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float, cancel: CancelToken) -> bool:
        self.delays.append(delay)
        return cancel.cancelled


async def collect(provider: FallbackProvider) -> tuple[str, list[NoticeChunk]]:
    text, notes = [], []
    async for ev in provider.stream(REQ, CancelToken()):
        if isinstance(ev, TextChunk):
            text.append(ev.text)
        elif isinstance(ev, NoticeChunk):
            notes.append(ev)
            if ev.restart:
                text.clear()
    return "".join(text), notes


def http(base: str, name: str, key_env: str = "") -> OpenAIHTTPProvider:
    return OpenAIHTTPProvider(base, "m", name=name, api_key_env=key_env)


async def test_429_honours_retry_after_then_succeeds() -> None:
    calls = {"n": 0}

    def responder(body):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            return 429, {"Retry-After": "7"}, ['{"error": "slow down"}']
        return 200, {}, [sse({"content": "fine"}), "data: [DONE]"]

    sleeps = Sleeps()
    with sse_server(responder) as (base, _):
        fb = FallbackProvider([http(base, "cloud")], sleep=sleeps)
        text, notes = await collect(fb)
    assert text == "fine" and sleeps.delays == [7.0]
    # Three tries, not four: the default breaker opens after three failures in a row.
    assert "answered 429 with Retry-After 7 s; retrying in 7.0 s (try 2 of 3)" in notes[0].text
    assert not notes[0].restart


async def test_503_mid_stream_is_retried_and_the_partial_reply_discarded() -> None:
    calls = {"n": 0}

    def responder(body):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            return 200, {}, [sse({"content": "half an ans"}),
                             "data: " + json.dumps({"error": {"code": 503, "message": "busy"}})]
        return 200, {}, [sse({"content": "whole answer"}), "data: [DONE]"]

    sleeps = Sleeps()
    with sse_server(responder) as (base, _):
        text, notes = await collect(FallbackProvider([http(base, "cloud")], sleep=sleeps))
    assert text == "whole answer"
    assert notes[0].restart and "answered 503" in notes[0].text
    assert sleeps.delays == [1.0]  # no Retry-After: the policy's first backoff


async def test_backoff_grows_and_then_falls_back() -> None:
    def busy(body):  # type: ignore[no-untyped-def]
        return 502, {}, ["bad gateway"]

    def ok(body):  # type: ignore[no-untyped-def]
        return 200, {}, [sse({"content": "from b"}), "data: [DONE]"]

    sleeps = Sleeps()
    with sse_server(busy) as (a, seen_a), sse_server(ok) as (b, _):
        fb = FallbackProvider([http(a, "a"), http(b, "b")], sleep=sleeps,
                              policy=RetryPolicy(max_retries=2, base_delay=0.5),
                              breakers=BreakerBoard(threshold=10))
        text, notes = await collect(fb)
    assert text == "from b" and len(seen_a) == 3
    assert sleeps.delays == [0.5, 1.0]
    assert "a (m) failed before answering (a answered 502" in notes[-1].text
    assert "continuing on b" in notes[-1].text and fb.active.name == "b"


async def test_401_is_not_retried_and_names_the_env_var() -> None:
    def refuse(body):  # type: ignore[no-untyped-def]
        return 401, {}, ['{"error": "bad key"}']

    def ok(body):  # type: ignore[no-untyped-def]
        return 200, {}, [sse({"content": "local answer"}), "data: [DONE]"]

    sleeps = Sleeps()
    board = BreakerBoard()
    with sse_server(refuse) as (a, seen_a), sse_server(ok) as (b, _):
        fb = FallbackProvider([http(a, "openai", "OPENAI_API_KEY"), http(b, "local")],
                              sleep=sleeps, breakers=board)
        text, notes = await collect(fb)
        assert text == "local answer" and len(seen_a) == 1 and sleeps.delays == []
        assert "OPENAI_API_KEY" in notes[0].text and "continuing on local" in notes[0].text
        # Next turn: the refused provider is skipped, not asked again (no retry storm).
        text2, notes2 = await collect(fb)
    assert text2 == "local answer" and len(seen_a) == 1
    assert notes2[0].text.startswith("skipping openai") and "circuit open" in notes2[0].text


async def test_401_alone_keeps_its_own_message() -> None:
    def refuse(body):  # type: ignore[no-untyped-def]
        return 403, {}, ["{}"]

    with sse_server(refuse) as (a, _):
        fb = FallbackProvider([http(a, "openrouter", "OPENROUTER_API_KEY")], sleep=Sleeps())
        with pytest.raises(ProviderError) as err:
            await collect(fb)
    assert err.value.status == 403
    assert "openrouter refused the request (403); set the environment variable " \
           "OPENROUTER_API_KEY" in str(err.value)


async def test_connection_refused_falls_back_at_once() -> None:
    def ok(body):  # type: ignore[no-untyped-def]
        return 200, {}, [sse({"content": "b"}), "data: [DONE]"]

    sleeps = Sleeps()
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with sse_server(ok) as (b, _):
        text, notes = await collect(FallbackProvider([http(dead, "gone"), http(b, "b")],
                                                     sleep=sleeps))
    assert text == "b" and sleeps.delays == [] and "ConnectError" in notes[0].text


async def test_everything_down_lists_each_failure() -> None:
    dead1, dead2 = (f"http://127.0.0.1:{free_port()}/v1" for _ in range(2))
    fb = FallbackProvider([http(dead1, "x"), http(dead2, "y")], sleep=Sleeps())
    with pytest.raises(ProviderError, match=r"every provider for main failed: x: .*; y: "):
        await collect(fb)


def test_breaker_opens_then_half_opens() -> None:
    now = [0.0]
    br = CircuitBreaker("p", threshold=2, cooldown=10, clock=lambda: now[0])
    br.record_failure("boom")
    assert br.allow()
    br.record_failure("boom")
    assert br.state is BreakerState.OPEN and not br.allow()
    assert "circuit open for 10 s more after 2 failure(s): boom" in br.describe()
    now[0] = 10.5
    assert br.state is BreakerState.HALF_OPEN and br.allow()
    br.record_failure("still")  # the trial failed: open again at once
    assert br.state is BreakerState.OPEN
    now[0] = 21
    br.record_success()
    assert br.state is BreakerState.CLOSED and br.failures == 0


async def test_cancel_during_backoff_stops_promptly() -> None:
    token = CancelToken()
    token.cancel()
    assert await cancellable_sleep(60, token) is True
    assert await cancellable_sleep(0.01, CancelToken()) is False


class DiesMidReply:
    """A provider that streams some text and then loses its connection."""

    name = "a"
    model = "a-model"
    capabilities = Capabilities()

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        yield TextChunk("The answer is")
        raise ProviderError("a: RemoteProtocolError: peer closed connection", retryable=True)

    async def aclose(self) -> None:
        return None


async def test_session_discards_the_dead_reply_and_shows_the_notice(tmp_path: Path) -> None:
    second = ScriptedProvider(["Forty-two."], model="b-model")
    second.name = "b"  # type: ignore[misc]
    fb = FallbackProvider([DiesMidReply(), second], sleep=Sleeps())
    session = Session(fb, options=SessionOptions(workspace=tmp_path))
    events: list[object] = []
    session.add_listener(events.append)
    outcome = await session.run_turn("what is it?")
    assert outcome.status == "finished" and outcome.text == "Forty-two."
    kinds = [type(e).__name__ for e in events]
    restart = kinds.index("ReplyRestarted")
    assert kinds.index("TextDelta") < restart < kinds.index("Notice")
    notice = next(e for e in events if isinstance(e, Notice))
    assert "a (a-model) failed mid-reply" in notice.text and "continuing on b" in notice.text
    assert isinstance(events[-1], TurnFinished)
    after = [e.text for e in events[restart:] if isinstance(e, TextDelta)]
    assert "".join(after) == "Forty-two."
    assert [m.content for m in session.history if m.role == "assistant"] == ["Forty-two."]
    assert fb.model == "b-model"
    assert any(isinstance(e, ReplyRestarted) for e in events)


async def test_a_single_provider_chain_keeps_its_name() -> None:
    p = ScriptedProvider(["x"])
    fb = FallbackProvider([p])
    assert fb.name == "scripted" and fb.capabilities is p.capabilities
    chunks = [ev async for ev in fb.stream(REQ, CancelToken())]
    assert isinstance(chunks[-1], FinishChunk)
