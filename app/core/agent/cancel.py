"""A cancel token that works from asyncio code and from worker threads alike.

llama.cpp generation runs in a thread that cannot be killed; it polls :attr:`CancelToken.cancelled`
after every chunk. Async code awaits :meth:`CancelToken.wait` or races it against other work.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason = ""

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Cancel; returns False if it was already cancelled."""
        with self._lock:
            if self._event.is_set():
                return False
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()
        return True

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` (from whichever thread cancels) once cancelled; returns an unsubscribe."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    async def wait(self) -> None:
        """Return once cancelled; safe to call from any event loop."""
        if self.cancelled:
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            if not fut.done():
                fut.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(resolve)

        unsubscribe = self.on_cancel(wake)
        try:
            await fut
        finally:
            unsubscribe()

    def child(self) -> CancelToken:
        """A token cancelled whenever this one is, but which can also be cancelled on its own."""
        child = CancelToken()
        def propagate() -> None:
            child.cancel(self.reason)

        self.on_cancel(propagate)
        return child


class Cancelled(Exception):
    """Raised inside the core when work stops because its token was cancelled."""
