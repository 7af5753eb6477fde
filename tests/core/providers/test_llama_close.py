"""Closing the in-process model right after a cancel: the generation thread must leave llama.cpp
first (freeing the model under it crashed the program). In a child program, so a crash is seen
as its exit status instead of taking the test run down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

CHILD = '''
import asyncio, sys
from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.providers.base import ProviderRequest, TextChunk
from app.core.providers.llama_inprocess import LlamaInProcessProvider

async def main() -> None:
    provider = LlamaInProcessProvider(sys.argv[1], n_ctx=2048, temperature=0.0, n_threads=2)
    for _ in range(5):
        cancel = CancelToken()
        request = ProviderRequest(messages=(Message(role="user", content="Count from 1 to 500, "
                                                    "one number per line."),), max_tokens=400)
        chunks = 0
        async for ev in provider.stream(request, cancel):
            if isinstance(ev, TextChunk):
                chunks += 1
                if chunks == 3:
                    cancel.cancel()  # the stream ends now; the thread is still decoding
        await provider.aclose()  # must wait for that thread before freeing the model
        assert provider.last_thread is not None
    print("closed cleanly")

asyncio.run(main())
'''


def test_close_right_after_a_cancel_waits_for_the_generation_thread(model_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(model_path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "closed cleanly" in proc.stdout
