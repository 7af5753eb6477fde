"""Wait in Pilot tests for the condition a test checks, instead of one `pause()` that may come too
early on a loaded machine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


async def until(pilot: Pilot[Any], condition: Callable[[], object], *, seconds: float = 15.0,
                what: str = "") -> None:
    """Let the app run until ``condition()`` is true; fail after ``seconds``.

    Each round waits for the app to process its pending messages (and a short tick for workers and
    timers), so a true condition is seen as soon as the app has produced it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    await pilot.pause()
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what or condition}")
        await pilot.pause(0.02)
