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


async def click_button(pilot: Pilot[Any], selector: str) -> None:
    """Click a button once it can take the click.

    A Button ignores clicks while it still shows the short "-active" effect of the previous press,
    so two presses of the same button closer together than that effect would lose the second.
    """
    button = pilot.app.screen.query_one(selector)
    await until(pilot, lambda: not button.has_class("-active") and not button.disabled,
                what=f"{selector} to take a click")
    assert await pilot.click(selector), f"{selector} was not under the pointer"
