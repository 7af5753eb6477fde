"""The background summariser: older history into a short fill-in template, by the memory-slot model.

It is guarded on every side: its input is cut to 0.7 of the summariser's own window (a summariser
overflowing its context was a predecessor bug), a timeout stops a hung model (30 s by default), and
an empty reply or one no shorter than its input counts as a failure, never as a summary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.context.tokens import TokenEstimator, request_chars
from app.core.providers.base import (
    Provider,
    ProviderError,
    ProviderRequest,
    TextChunk,
    UsageChunk,
)
from app.core.wire.render import calls_as_text

INPUT_SHARE = 0.7  # of the summariser's window, for the transcript it reads
# A cap on the input per call, whatever the window: a small CPU model must finish well inside the
# timeout. History beyond it is summarised by later calls (the watermark advances in steps).
MAX_INPUT_TOKENS = 2048
PER_OUTPUT_CHARS = 1500  # a tool output longer than this is cut to head and tail in the input

SYSTEM = ("You compress conversation history for a coding assistant that will continue the work "
          "from your summary alone. Write only the filled-in template.")
TEMPLATE = """Summarise the conversation below. Fill in this template. Copy file paths, names, \
numbers and error messages exactly. At most 10 short bullets per section; write "none" for an \
empty section. No preamble.

## Task
## Decisions
## Facts
## Pending
## Errors
{previous}
Conversation:
{transcript}"""


class SummaryError(Exception):
    """The summariser failed (timeout, provider error, empty or too long a reply)."""


def transcript_line(m: Message) -> str:
    text = m.content
    if m.role == "tool":
        if len(text) > PER_OUTPUT_CHARS:
            half = PER_OUTPUT_CHARS // 2
            text = f"{text[:half]}\n[… {len(text):,} chars …]\n{text[-half:]}"
        return f"TOOL {m.name or ''}: {text}"
    if m.role == "assistant":
        calls = calls_as_text(m)
        return f"ASSISTANT: {text}" + (f"\nCALLS: {calls}" if calls else "")
    return f"{m.role.upper()}: {text}"


def render_transcript(messages: Sequence[Message], max_chars: int) -> str:
    out = "\n\n".join(transcript_line(m) for m in messages)
    if len(out) > max_chars:
        # Keep the newest part: older parts are in the previous summary, and the log keeps all.
        out = "[… earlier part omitted …]\n" + out[-max_chars:]
    return out


class Summarizer:
    """Summarise with a provider made on first use (so a slot's model loads only when needed)."""

    def __init__(self, provider: Provider | Callable[[], Provider], *, timeout_s: float = 30.0,
                 max_tokens: int = 320, max_input_tokens: int = MAX_INPUT_TOKENS) -> None:
        self._provider: Provider | None = None
        self._factory: Callable[[], Provider] | None = None
        if isinstance(provider, Provider):
            self._provider = provider
        else:
            self._factory = provider
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.max_input_tokens = max_input_tokens
        # The summariser's own model's tokens, calibrated from its usage reports.
        self.tokens = TokenEstimator()

    @property
    def input_chars(self) -> int:
        """About how much transcript one call reads (before the window is known)."""
        return self.tokens.chars(self.max_input_tokens)

    async def provider(self) -> Provider:
        if self._provider is None:
            assert self._factory is not None
            # A factory may assemble a model file: keep that off the event loop.
            self._provider = await asyncio.to_thread(self._factory)
        return self._provider

    async def summarize(self, messages: Sequence[Message], *, previous: str = "") -> str:
        provider = await self.provider()
        window = provider.capabilities.context_window
        tokens = min(window * INPUT_SHARE - self.max_tokens, self.max_input_tokens)
        budget = self.tokens.chars(int(tokens)) - len(TEMPLATE)
        prev = f"\nEarlier summary (merge it in):\n{previous}\n" if previous else ""
        transcript = render_transcript(messages, max(budget - len(prev), 500))
        prompt = TEMPLATE.format(previous=prev, transcript=transcript)
        request = ProviderRequest(messages=(Message(role="system", content=SYSTEM),
                                            Message(role="user", content=prompt)),
                                  max_tokens=self.max_tokens, temperature=0.0)
        cancel = CancelToken()
        pieces: list[str] = []
        sent = request_chars(request.messages)

        async def collect() -> None:
            async for chunk in provider.stream(request, cancel):
                if isinstance(chunk, TextChunk):
                    pieces.append(chunk.text)
                elif isinstance(chunk, UsageChunk):
                    self.tokens.calibrate(sent, chunk.prompt_tokens)

        try:
            async with asyncio.timeout(self.timeout_s):
                await collect()
        except TimeoutError:
            cancel.cancel("summary timed out")
            raise SummaryError(f"the summariser timed out after {self.timeout_s:g} s") from None
        except ProviderError as exc:
            raise SummaryError(f"the summariser failed: {exc}") from exc
        text = "".join(pieces).strip()
        if not text:
            raise SummaryError("the summariser returned nothing")
        source = len(prev) + len(transcript)
        if len(text) >= source:
            raise SummaryError(f"the summary ({len(text):,} chars) is not shorter than its input "
                               f"({source:,} chars)")
        return text
