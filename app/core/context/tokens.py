"""Cheap token estimates for text the provider has not counted yet (the meter's pending part)."""

from __future__ import annotations

# About four characters per token for English and code with the tokenizers we ship; the meter
# replaces the estimate with the provider's real count as soon as a Usage event arrives.
CHARS_PER_TOKEN = 4


def tokens_for_chars(n: int) -> int:
    return (n + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN if n > 0 else 0


def estimate_tokens(text: str) -> int:
    return tokens_for_chars(len(text))


def format_tokens(n: int) -> str:
    """``950`` → ``950``, ``12_400`` → ``12.4K``, ``1_200_000`` → ``1.2M``."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}K"
    return str(n)
