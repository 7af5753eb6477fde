"""Token estimates for text a provider has not counted yet: one estimator for the whole app.

The context meter, the Context Gate, compaction, the summariser and the session all ask a
:class:`TokenEstimator`. It divides characters by a ratio that starts at
:data:`DEFAULT_CHARS_PER_TOKEN` and is calibrated from the provider's real counts: when a usage
report comes back for a request whose characters are known, the ratio becomes theirs. A session
owns one (its model's tokenizer is what is measured); code with no session at hand uses
:func:`estimate_tokens`, the uncalibrated default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.agent.messages import Message
    from app.core.providers.base import ToolSpec

# About four characters per token for English and code with the tokenizers we ship.
DEFAULT_CHARS_PER_TOKEN = 4.0
# For fitting a prompt into a model's window before that model's counts came back: an estimate
# that is too low overflows the window, one that is too high only shortens the prompt.
CAUTIOUS_CHARS_PER_TOKEN = 3.0
# A calibrated ratio stays inside these bounds: a usage report from a provider that counts oddly
# (cached prompts, a template that adds a lot) must not make every estimate absurd.
MIN_CHARS_PER_TOKEN, MAX_CHARS_PER_TOKEN = 1.0, 8.0
PER_MESSAGE_CHARS = 16  # role markers and separators the chat template adds around each message


def message_chars(m: Message) -> int:
    """Characters one message puts in a request: its text, its tool calls, the template's marks."""
    calls = sum(len(c.name) + len(json.dumps(c.arguments, ensure_ascii=False))
                for c in m.tool_calls)
    return len(m.content) + calls + PER_MESSAGE_CHARS


def request_chars(messages: Iterable[Message], tools: Iterable[ToolSpec] = ()) -> int:
    """Characters of a request: its messages and its tool specs (sent as instructions or as a
    tools field, either way counted as text)."""
    return (sum(message_chars(m) for m in messages)
            + sum(len(t.name) + len(t.description) + len(str(t.parameters)) for t in tools))


class TokenEstimator:
    """Characters ↔ tokens at a ratio calibrated from real counts; see the module docstring."""

    def __init__(self, chars_per_token: float = DEFAULT_CHARS_PER_TOKEN) -> None:
        self.chars_per_token = chars_per_token
        self.calibrated = False

    def for_chars(self, n: int) -> int:
        return math.ceil(n / self.chars_per_token) if n > 0 else 0

    def tokens(self, text: str) -> int:
        return self.for_chars(len(text))

    def messages(self, messages: Sequence[Message], tools: Iterable[ToolSpec] = ()) -> int:
        return self.for_chars(request_chars(messages, tools))

    def chars(self, tokens: int) -> int:
        """About how many characters ``tokens`` tokens hold."""
        return int(tokens * self.chars_per_token)

    def calibrate(self, chars: int, tokens: int) -> None:
        """The provider counted ``tokens`` for a request of ``chars`` characters."""
        if chars <= 0 or tokens <= 0:
            return
        self.chars_per_token = min(MAX_CHARS_PER_TOKEN, max(MIN_CHARS_PER_TOKEN, chars / tokens))
        self.calibrated = True


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` at the default ratio (where no session's calibrated estimator is at
    hand)."""
    return TokenEstimator().tokens(text)


def format_tokens(n: int) -> str:
    """``950`` → ``950``, ``12_400`` → ``12.4K``, ``1_200_000`` → ``1.2M``."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}K"
    return str(n)
