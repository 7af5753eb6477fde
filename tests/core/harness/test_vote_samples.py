"""A vote's samples carry what the loop needs from a reply, the finish reason included."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.core.agent.cancel import CancelToken
from app.core.harness.vote import collect
from app.core.providers.base import (
    FinishChunk,
    ProviderEvent,
    ProviderRequest,
    TextChunk,
    ToolSpec,
)

SPEC = ToolSpec(name="read_file", description="read",
                parameters={"type": "object", "properties": {"path": {"type": "string"}}})


class Cut:
    """A provider whose reply stops at the token limit, or ends normally."""

    def __init__(self, text: str, reason: str) -> None:
        self.text, self.reason = text, reason

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        yield TextChunk(self.text)
        yield FinishChunk(self.reason)


async def test_a_sample_cut_by_the_token_limit_is_not_guessed_into_a_call() -> None:
    # Needs json-repair (an unquoted key): fine for a reply that ended, a guess for one cut off.
    text = '{"name": "read_file", "arguments": {path: "data/items.csv"}}'
    request = ProviderRequest(messages=(), tools=(SPEC,))
    cut = await collect(Cut(text, "length"), request, CancelToken(), {"read_file"})  # type: ignore[arg-type]
    assert cut.calls == []
    assert FinishChunk("length") in cut.chunks()  # the loop sees the cut too
    done = await collect(Cut(text, "stop"), request, CancelToken(), {"read_file"})  # type: ignore[arg-type]
    assert [(c.name, c.arguments) for c in done.calls] == [
        ("read_file", {"path": "data/items.csv"})]
