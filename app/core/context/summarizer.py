"""The background summariser: older history into a short fill-in template.

Its model is the memory slot's, or the main provider when that is remote and no memory slot is
set (``memory_summarizer`` in ``app/runtime/build.py``). It is guarded on every side: its input
is cut to 0.7 of its own window (a summariser overflowing its context was a predecessor bug); its
speed is measured on every call (prompt and generation rate), and both the timeout and how much one
call reads follow from that speed, so a slow CPU model gets smaller pieces and the time they need
instead of a fixed 30 s it cannot meet; a call that times out halves the next piece
(:meth:`Summarizer.shrink`); an empty reply or one no shorter than its input counts as a failure,
never as a summary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
MIN_INPUT_TOKENS = 256  # the smallest piece a timed-out summary shrinks to
TARGET_SECONDS = 60.0  # what one summary call should take at the measured speed

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


class SummaryTimeout(SummaryError):
    """The summariser ran out of time: a smaller piece may well finish."""


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


@dataclass
class Speed:
    """Tokens per second of the summariser's model, measured on its own calls.

    It starts from the default model on a busy 2-core CPU (about half of what it reaches alone:
    prompt 198 tok/s, generation 43 tok/s) and follows each call's measurement from then on.
    """

    prompt: float = 100.0
    generate: float = 20.0
    measured: bool = False

    def seconds(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens / self.prompt + output_tokens / self.generate

    def update(self, prompt: float | None, generate: float | None) -> None:
        for name, value in (("prompt", prompt), ("generate", generate)):
            if value is not None and value > 0:
                old = getattr(self, name)
                setattr(self, name, value if not self.measured else 0.5 * old + 0.5 * value)
        self.measured = True


class Summarizer:
    """Summarise with a provider made on first use (so a slot's model loads only when needed).

    ``reuse=False`` asks the factory on every call (the session's main provider, which /model
    may change). ``timeout_s`` is the least time a call gets; the measured speed may give more.
    """

    def __init__(self, provider: Provider | Callable[[], Provider], *, timeout_s: float = 30.0,
                 max_tokens: int = 320, max_input_tokens: int = MAX_INPUT_TOKENS,
                 reuse: bool = True, speed: Speed | None = None) -> None:
        self._provider: Provider | None = None
        self._factory: Callable[[], Provider] | None = None
        if isinstance(provider, Provider):
            self._provider = provider
        else:
            self._factory = provider
        self.reuse = reuse
        self.min_timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.max_input_tokens = max_input_tokens
        # The summariser's own model's tokens, calibrated from its usage reports.
        self.tokens = TokenEstimator()
        self.speed = speed or Speed()
        self.last_timeout_s = 0.0

    @property
    def input_tokens(self) -> int:
        """How much transcript one call reads: what the measured speed summarises in time."""
        room = TARGET_SECONDS - self.max_tokens / self.speed.generate
        by_speed = int(max(0.0, room) * self.speed.prompt)
        return max(MIN_INPUT_TOKENS, min(self.max_input_tokens, by_speed))

    @property
    def input_chars(self) -> int:
        """About how much transcript one call reads (before the window is known)."""
        return self.tokens.chars(self.input_tokens)

    def timeout_for(self, input_tokens: int) -> float:
        """Twice what the measured speed needs; never below ``timeout_s``."""
        need = self.speed.seconds(input_tokens, self.max_tokens)
        return max(self.min_timeout_s, 2.0 * need)

    def shrink(self) -> bool:
        """Halve the piece one call reads (after a timeout); False when it is already smallest."""
        if self.input_tokens <= MIN_INPUT_TOKENS:
            return False
        self.max_input_tokens = max(MIN_INPUT_TOKENS, self.input_tokens // 2)
        return True

    async def provider(self) -> Provider:
        if self._provider is None or not self.reuse:
            assert self._factory is not None
            # A factory may assemble a model file: keep that off the event loop.
            provider = await asyncio.to_thread(self._factory)
            if not self.reuse:
                return provider
            self._provider = provider
        return self._provider

    async def summarize(self, messages: Sequence[Message], *, previous: str = "") -> str:
        provider = await self.provider()
        window = provider.capabilities.context_window
        tokens = min(window * INPUT_SHARE - self.max_tokens, self.input_tokens)
        budget = self.tokens.chars(int(tokens)) - len(TEMPLATE)
        prev = f"\nEarlier summary (merge it in):\n{previous}\n" if previous else ""
        transcript = render_transcript(messages, max(budget - len(prev), 500))
        prompt = TEMPLATE.format(previous=prev, transcript=transcript)
        request = ProviderRequest(messages=(Message(role="system", content=SYSTEM),
                                            Message(role="user", content=prompt)),
                                  max_tokens=self.max_tokens, temperature=0.0)
        cancel = CancelToken()
        pieces: list[str] = []
        sent_chars = request_chars(request.messages)
        sent = self.tokens.for_chars(sent_chars)  # tokens: the provider's count replaces it
        timeout = self.last_timeout_s = self.timeout_for(sent)
        started = time.monotonic()
        first: list[float] = []  # when the first text arrived: the prompt was read by then

        async def collect() -> None:
            async for chunk in provider.stream(request, cancel):
                if isinstance(chunk, UsageChunk) and chunk.prompt_tokens:
                    nonlocal sent
                    sent = chunk.prompt_tokens
                if isinstance(chunk, TextChunk):
                    if not first:
                        first.append(time.monotonic())
                    pieces.append(chunk.text)
                elif isinstance(chunk, UsageChunk):
                    self.tokens.calibrate(sent_chars, chunk.prompt_tokens)

        try:
            async with asyncio.timeout(timeout):
                await collect()
        except TimeoutError:
            cancel.cancel("summary timed out")
            self._measure(sent, started, first, len(pieces), timed_out=True)
            raise SummaryTimeout(f"the summariser timed out after {timeout:.3g} s") from None
        except ProviderError as exc:
            raise SummaryError(f"the summariser failed: {exc}") from exc
        self._measure(sent, started, first, len(pieces), timed_out=False)
        text = "".join(pieces).strip()
        if not text:
            raise SummaryError("the summariser returned nothing")
        return self._check(text, len(prev) + len(transcript))

    def _measure(self, sent: int, started: float, first: list[float], pieces: int, *,
                 timed_out: bool) -> None:
        now = time.monotonic()
        if not first:  # the prompt was still being read: it reads at most this fast
            if timed_out:
                self.speed.update(0.8 * sent / max(now - started, 1e-3), None)
            return
        prompt = sent / max(first[0] - started, 1e-3)
        generate = pieces / (now - first[0]) if pieces > 1 and now > first[0] else None
        self.speed.update(prompt, generate)

    @staticmethod
    def _check(text: str, source: int) -> str:
        if len(text) >= source:
            raise SummaryError(f"the summary ({len(text):,} chars) is not shorter than its input "
                               f"({source:,} chars)")
        return text
