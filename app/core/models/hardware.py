"""Live CPU and memory figures, sampled in a thread and delivered as frozen snapshots.

The sampler lives in the core so any view (the TUI side panel today, a dashboard later) renders the
same :class:`HardwareSnapshot` and never polls psutil on the UI thread. GPU figures (NVML) are left
for the dashboard work; :class:`HardwareSnapshot` grows fields for them then.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import psutil

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HardwareSnapshot:
    cpu_percent: float  # whole machine, 0-100
    cpu_count: int
    ram_used: int  # bytes
    ram_total: int
    process_rss: int  # this process, bytes (a loaded in-process model shows up here)

    @property
    def ram_percent(self) -> float:
        return 100.0 * self.ram_used / self.ram_total if self.ram_total else 0.0


def sample_once(process: psutil.Process | None = None, *, interval: float | None = None
                ) -> HardwareSnapshot:
    """One reading. ``interval=None`` compares with the previous call (the first reads 0%)."""
    proc = process or psutil.Process(os.getpid())
    mem = psutil.virtual_memory()
    return HardwareSnapshot(
        cpu_percent=float(psutil.cpu_percent(interval=interval)),
        cpu_count=psutil.cpu_count() or 1,
        ram_used=int(mem.total - mem.available),
        ram_total=int(mem.total),
        process_rss=int(proc.memory_info().rss),
    )


Callback = Callable[[HardwareSnapshot], None]


class HardwareSampler:
    """Calls ``callback(snapshot)`` from a daemon thread every ``interval`` seconds until stopped."""

    def __init__(self, callback: Callback, *, interval: float = 2.0) -> None:
        self.callback = callback
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hw-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _run(self) -> None:
        proc = psutil.Process(os.getpid())
        psutil.cpu_percent(interval=None)  # prime the counter so the first real reading is honest
        while not self._stop.wait(self.interval):
            try:
                snap = sample_once(proc)
            except (psutil.Error, OSError):
                log.exception("hardware sample failed")
                continue
            try:
                self.callback(snap)
            except Exception:
                log.exception("hardware callback failed")
