"""SIGTERM and SIGHUP (the terminal closed) end the full-screen app the way quitting does.

Without this the default action kills the process outright: no ``atexit``, so managed servers and
the exec trees of a running turn would be left behind. Here the turn is cancelled (which kills its
exec trees), every other tracked exec tree is killed, the managed servers are stopped, then the app
exits with 128 + the signal number. A second signal while that runs ends it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Any

from app.core.agent import children

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
TURN_GRACE = 5.0  # seconds the cancelled turn gets to wind down before the app exits anyway


def install(app: Any) -> None:
    """Handle the stop signals on ``app``'s event loop (call from ``on_mount``)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, _stop, app, sig)
        except (RuntimeError, ValueError, NotImplementedError):
            return  # not the main thread (an app driven from a test harness thread)


async def _turn_ended(app: Any) -> None:
    for worker in [w for w in app.workers if w.group == "turn"]:
        with contextlib.suppress(Exception):
            await worker.wait()


async def _close(app: Any, sig: int) -> None:
    # The cancelled turn reports its end to the view first: exiting under it would tear down
    # widgets that its last events still update.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_turn_ended(app), TURN_GRACE)
    stack = getattr(app, "stack", None)
    if stack is not None:
        with contextlib.suppress(Exception):
            await stack.manager.shutdown()
    children.kill_all()
    app.exit(return_code=128 + sig)


def _stop(app: Any, sig: int) -> None:
    if getattr(app, "_stopping_by_signal", False):
        children.kill_all()
        app.exit(return_code=128 + sig)
        return
    app._stopping_by_signal = True
    with contextlib.suppress(Exception):
        app.bridge.cancel()
    children.kill_all(("exec",))
    app.run_worker(_close(app, sig), group="shutdown", exit_on_error=False)
