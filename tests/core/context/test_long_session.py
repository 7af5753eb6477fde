"""Long sessions: the summariser uses a model that can finish, its timeout and piece size follow
its measured speed, a timed-out piece is retried smaller, truncation leaves recallable stubs, and
what is sent never exceeds the window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, ToolCall
from app.core.agent.session import Session
from app.core.context.compaction import ContextMeasured
from app.core.context.compaction_tiers import REF_RE, Item, Source, emergency_truncate, expand
from app.core.context.summarizer import MIN_INPUT_TOKENS, Summarizer
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    ProviderEvent,
    ProviderRequest,
    TextChunk,
    UsageChunk,
)
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.scripted import ScriptedProvider
from app.core.settings.config import Config, parse_config
from app.runtime.build import memory_summarizer
from tests.core.context.compaction_helpers import build, fetch_turn


def remote_config() -> Config:
    return parse_config('[agent]\nprovider = "cloud"\n[providers.cloud]\n'
                        'base_url = "http://127.0.0.1:9/v1"\nmodels = ["m"]\n')


async def test_a_remote_main_summarises_without_loading_a_local_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_local(*_: object, **__: object) -> object:
        raise AssertionError("the local model was loaded for a summary")

    monkeypatch.setattr("app.core.providers.registry.local_provider", no_local)
    main = OpenAIHTTPProvider("http://127.0.0.1:9/v1", "m", name="cloud")
    session = Session(main)
    summarizer = memory_summarizer(remote_config(), lambda: session.provider)
    assert await summarizer.provider() is main
    # /model switches the main provider: the summariser follows it.
    other = OpenAIHTTPProvider("http://127.0.0.1:9/v1", "m2", name="other")
    session.set_provider(other)
    assert await summarizer.provider() is other
    await main.aclose()
    await other.aclose()


def test_a_local_main_or_a_memory_slot_keeps_its_own_model() -> None:
    local = Session(ScriptedProvider())
    assert memory_summarizer(Config(), lambda: local.provider).reuse  # a local model instance, made once
    cfg = parse_config('[agent]\nprovider = "cloud"\n[providers.cloud]\n'
                       'base_url = "http://127.0.0.1:9/v1"\nmodels = ["m"]\n'
                       '[local.memory]\nmodel = "qwen2.5-coder-0.5b"\n')
    remote = Session(OpenAIHTTPProvider("http://127.0.0.1:9/v1", "m", name="cloud"))
    assert memory_summarizer(cfg, lambda: remote.provider).reuse  # the configured memory slot wins
    # No memory slot and a remote main: the main provider, asked each time.
    assert not memory_summarizer(remote_config(), lambda: remote.provider).reuse


class Paced:
    """A model with a pace: reads the prompt in ``first_s``, then one piece per ``piece_s``."""

    name = "paced"
    model = "paced"

    def __init__(self, first_s: float, piece_s: float, pieces: int = 10) -> None:
        self.first_s, self.piece_s, self.pieces = first_s, piece_s, pieces
        self.capabilities = Capabilities(context_window=8192)
        self.requests: list[ProviderRequest] = []

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        self.requests.append(request)
        await asyncio.sleep(self.first_s)  # the model's own pace, not a wait for a condition
        for _ in range(self.pieces):
            yield TextChunk("ok ")
            await asyncio.sleep(self.piece_s)  # the model's pace between pieces, as above
        yield UsageChunk(1000, self.pieces)
        yield FinishChunk("stop")

    async def aclose(self) -> None:
        return None


def transcript(n: int) -> list[Message]:
    return [Message(role="user" if i % 2 == 0 else "assistant", content=f"message {i} " * 40)
            for i in range(n)]


async def test_the_timeout_and_the_piece_follow_the_measured_speed() -> None:
    paced = Paced(first_s=0.5, piece_s=0.02)
    summarizer = Summarizer(paced, timeout_s=0.01, max_tokens=50)
    assert summarizer.timeout_for(1000) > 0.01  # unmeasured: the default pace, not the floor
    await summarizer.summarize(transcript(20))
    speed = summarizer.speed
    assert speed.measured and 1000 / 0.5 * 0.6 < speed.prompt < 1000 / 0.5 * 1.2
    assert 0.5 * (1 / 0.02) < speed.generate < 1.5 * (1 / 0.02)
    expected = 2 * (1000 / speed.prompt + 50 / speed.generate)
    assert summarizer.timeout_for(1000) == pytest.approx(expected)
    # A slower model: the next calls read less and get more time.
    slow = Summarizer(Paced(first_s=0.5, piece_s=0.02), timeout_s=0.01, max_tokens=50)
    slow.speed.update(prompt=20.0, generate=2.0)
    assert slow.input_tokens < summarizer.input_tokens
    assert slow.timeout_for(1000) > summarizer.timeout_for(1000)


async def test_a_timed_out_piece_is_retried_smaller(tmp_path: Path) -> None:
    summarizer = Summarizer(Paced(first_s=0.3, piece_s=0.0), timeout_s=0.01, max_tokens=50)
    summarizer.speed.update(prompt=1e6, generate=1e6)  # believed fast: it gets the floor
    before = summarizer.input_tokens
    with pytest.raises(Exception, match="timed out"):
        await summarizer.summarize(transcript(40))
    assert summarizer.speed.prompt < 1e6  # the prompt was not read in time: that is measured
    assert summarizer.shrink() and summarizer.input_tokens <= max(before // 2, MIN_INPUT_TOKENS)


def test_what_truncation_leaves_out_stays_recallable() -> None:
    history = []
    for i in range(30):
        history.append(Message(role="user", content=f"question {i} " + "q" * 300))
        history.append(Message(role="assistant", content="", tool_calls=(
            ToolCall(f"c{i}", "read_file", {"path": f"f{i}.py"}),)))
        history.append(Message(role="tool", content=f"file {i} " + "x" * 900,
                               tool_call_id=f"c{i}", name="read_file"))
    items = [Item(Message(role="system", content="sys")), *(Item(m, i) for i, m in
                                                           enumerate(history))]
    sources = {i: Source(i) for i in range(len(history))}
    cut = emergency_truncate(items, budget=1500, chars_per_token=4.0, sources=sources)
    assert cut.dropped > 20
    notice = next(it.message.content for it in cut.items if it.message.role == "notice")
    refs = REF_RE.findall(notice)
    assert len(refs) >= 5  # stubs, not one line for everything
    # The newest left-out messages each have their own stub, and every stub restores its text.
    kept = {it.index for it in cut.items if it.index is not None}
    newest_dropped = max(i for i in sources if i not in kept)
    assert f"[history #{newest_dropped}]" in notice
    for ref in REF_RE.finditer(notice):
        restored = expand(ref.group(0), history=history, log_path=None)
        assert restored and all(m in history for m in restored)


class NoUsage(ScriptedProvider):
    """A server that never reports token counts (many OpenAI-compatible stubs do not)."""

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        async for ev in super().stream(request, cancel):
            if not isinstance(ev, UsageChunk):
                yield ev


async def test_what_is_sent_never_exceeds_the_window_over_150_turns(tmp_path: Path) -> None:
    session, _, _, _, events, _ = build(tmp_path, window=2000, output=600, summarize=False)
    provider = NoUsage(context_window=2000)
    session.set_provider(provider)
    for n in range(1, 151):
        assert await fetch_turn(session, provider, n) == "finished"  # type: ignore[arg-type]
    measured = [e for e in events if isinstance(e, ContextMeasured)]
    assert len(measured) == 300  # one per request
    assert max(e.sent_tokens for e in measured) <= 2000
    assert measured[-1].stored_tokens > 2000 * 10  # the session holds far more than is sent
