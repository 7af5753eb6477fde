"""How the engine asks for samples: a batch of requests in, one result per request out.

A batch is the samples of one voting round; they are independent, so a sampler may run them
concurrently (the endpoint pool does). Real samplers read only ``prompt``; a simulated sampler may
also read the structured ``state`` it is given, as a stand-in for a model reading the prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from app.core.agent.cancel import CancelToken
from app.core.process.task import Prompt


class SamplerError(Exception):
    """No sample can be had (every endpoint failed): the process stops, visibly and resumably."""


class SampleRequest(NamedTuple):
    prompt: Prompt
    temperature: float
    max_tokens: int
    seed: int  # derived from (process seed, step, index): a resumed step draws the same samples
    step: int
    idx: int  # the sample's number within its step
    state: Any = None
    prev_action: Any = None


class SampleResult(NamedTuple):
    text: str
    tokens: int  # completion tokens (-1 when the server did not say)
    finish: str  # "stop", "length" (hit max_tokens) or what the server reported
    endpoint: str
    seconds: float = 0.0
    reissued: int = 0  # how many times this sample moved to another endpoint after a failure


class Sampler(Protocol):
    label: str  # the model, as calibration records and lookups name it

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]: ...

    async def aclose(self) -> None: ...


def sample_seed(process_seed: int, step: int, index: int) -> int:
    """A 31-bit seed per sample (llama.cpp and most servers take a signed 32-bit seed)."""
    x = (process_seed * 0x9E3779B1 + step * 0x85EBCA77 + index * 0xC2B2AE3D) & 0xFFFFFFFFFFFF
    x ^= x >> 17
    x = (x * 0x27D4EB2F) & 0xFFFFFFFFFFFF
    return (x >> 13) & 0x7FFFFFFF
