"""What the machine has and is doing, as a frozen snapshot, sampled in a thread.

A :class:`HardwareSampler` polls psutil (CPU per core, RAM, swap, load, this process's resident
memory) and NVML (per GPU, unless ``gpus=False``) every ``interval`` seconds in a daemon thread and
keeps the latest snapshot plus a short history for sparklines. Every view renders the same
:class:`HardwareSnapshot` (the side panel, the dashboard, the setup wizard, the doctor) and never
polls on the UI thread; tests build snapshots with :func:`fixed_snapshot` so screens are
deterministic.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.models.gpu import GpuSample, NvmlReader

log = logging.getLogger(__name__)
GiB = 1 << 30


@dataclass(frozen=True)
class HardwareSnapshot:
    taken_at: float
    cpu_percent: float
    cpu_per_core: tuple[float, ...]
    cores_logical: int
    cores_physical: int
    load_avg: tuple[float, float, float]
    ram_total: int
    ram_available: int
    swap_total: int = 0
    swap_used: int = 0
    gpus: tuple[GpuSample, ...] = ()
    gpu_note: str = ""  # why there is no GPU data ("" when NVML works)
    unified_memory: bool = False  # Apple Silicon: the GPU shares system RAM
    system: str = field(default_factory=platform.system)
    machine: str = field(default_factory=platform.machine)
    process_rss: int = 0  # this process, bytes (a loaded in-process model shows up here)

    @property
    def ram_used(self) -> int:
        return max(0, self.ram_total - self.ram_available)

    @property
    def ram_percent(self) -> float:
        return 100.0 * self.ram_used / self.ram_total if self.ram_total else 0.0

    @property
    def cpu_count(self) -> int:
        return self.cores_logical

    @property
    def gpu_count(self) -> int:
        return len(self.gpus)

    @property
    def vram_total(self) -> int:
        return sum(g.mem_total for g in self.gpus)

    @property
    def vram_free(self) -> int:
        return sum(g.mem_free for g in self.gpus)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_percent": self.cpu_percent, "cpu_per_core": list(self.cpu_per_core),
            "cores_logical": self.cores_logical, "cores_physical": self.cores_physical,
            "load_avg": list(self.load_avg), "ram_total": self.ram_total,
            "ram_available": self.ram_available, "swap_total": self.swap_total,
            "swap_used": self.swap_used, "unified_memory": self.unified_memory,
            "system": self.system, "machine": self.machine, "gpu_note": self.gpu_note,
            "process_rss": self.process_rss,
            "gpus": [{"index": g.index, "name": g.name, "mem_total": g.mem_total,
                      "mem_used": g.mem_used, "util_percent": g.util_percent,
                      "temperature_c": g.temperature_c, "power_w": g.power_w}
                     for g in self.gpus],
        }


def is_unified_memory(system: str | None = None, machine: str | None = None) -> bool:
    """Apple Silicon: the GPU uses system RAM, so RAM is also the model's VRAM."""
    system = system or platform.system()
    machine = machine or platform.machine()
    return system == "Darwin" and machine in ("arm64", "aarch64")


def take_snapshot(gpu: NvmlReader | None = None, *, psutil_module: Any | None = None,
                  cpu_interval: float | None = None) -> HardwareSnapshot:
    """Read everything once. ``cpu_interval=None`` reports usage since the previous call."""
    if psutil_module is None:
        import psutil

        psutil_module = psutil
    ps = psutil_module
    per_core = tuple(float(x) for x in ps.cpu_percent(interval=cpu_interval, percpu=True))
    vm = ps.virtual_memory()
    try:
        sw = ps.swap_memory()
        swap_total, swap_used = int(sw.total), int(sw.used)
    except (OSError, RuntimeError):
        swap_total = swap_used = 0
    try:
        load = tuple(float(x) for x in ps.getloadavg())
    except (OSError, AttributeError):
        load = (0.0, 0.0, 0.0)
    logical = int(ps.cpu_count() or os.cpu_count() or 1)
    physical = int(ps.cpu_count(logical=False) or logical)
    gpus: tuple[GpuSample, ...] = ()
    note = "GPU sampling off"
    if gpu is not None:
        gpus = gpu.read()
        note = "" if gpu.available else gpu.reason
    try:
        rss = int(ps.Process(os.getpid()).memory_info().rss)
    except (OSError, AttributeError):
        rss = 0
    return HardwareSnapshot(
        taken_at=time.time(),
        cpu_percent=sum(per_core) / len(per_core) if per_core else 0.0,
        cpu_per_core=per_core, cores_logical=logical, cores_physical=physical,
        load_avg=(load[0], load[1], load[2]), ram_total=int(vm.total),
        ram_available=int(vm.available), swap_total=swap_total, swap_used=swap_used,
        gpus=gpus, gpu_note=note, unified_memory=is_unified_memory(), process_rss=rss)


def fixed_snapshot(*, ram_gib: float = 24.0, ram_available_gib: float | None = None,
                   cores: int = 2, cpu_percent: float = 37.5,
                   gpus: Sequence[tuple[str, float, float]] = (), unified: bool = False,
                   system: str = "Linux", machine: str = "x86_64",
                   process_rss: int = 0) -> HardwareSnapshot:
    """A deterministic snapshot for tests and screenshots.

    ``gpus`` is a list of ``(name, vram_total_gib, vram_used_gib)``.
    """
    samples = tuple(
        GpuSample(index=i, name=name, mem_total=int(total * GiB), mem_used=int(used * GiB),
                  util_percent=float(20 + 30 * i), temperature_c=float(45 + 5 * i),
                  power_w=float(80 + 40 * i), power_limit_w=350.0)
        for i, (name, total, used) in enumerate(gpus))
    avail = ram_available_gib if ram_available_gib is not None else ram_gib * 0.75
    per_core = tuple(cpu_percent for _ in range(cores))
    return HardwareSnapshot(
        taken_at=0.0, cpu_percent=cpu_percent, cpu_per_core=per_core, cores_logical=cores,
        cores_physical=cores, load_avg=(1.0, 0.8, 0.5), ram_total=int(ram_gib * GiB),
        ram_available=int(avail * GiB), gpus=samples,
        gpu_note="" if samples else "no NVIDIA driver or GPU (fixed snapshot)",
        unified_memory=unified, system=system, machine=machine, process_rss=process_rss)


Listener = Callable[[HardwareSnapshot], None]


class HardwareSampler:
    """Samples in a daemon thread; :attr:`latest` and :attr:`history` are always safe to read.

    Listeners run on the sampler thread: a UI must hop to its own thread (Textual's
    ``call_from_thread`` / ``post_message``).
    """

    def __init__(self, *, interval: float = 1.0, history: int = 60,
                 source: Callable[[], HardwareSnapshot] | None = None,
                 gpu: NvmlReader | None = None, gpus: bool = True) -> None:
        self.interval = interval
        self._gpu = gpu if gpu is not None else (
            NvmlReader() if source is None and gpus else None)
        self._source = source or (lambda: take_snapshot(self._gpu))
        self._history: deque[HardwareSnapshot] = deque(maxlen=history)
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def latest(self) -> HardwareSnapshot | None:
        with self._lock:
            return self._history[-1] if self._history else None

    @property
    def history(self) -> tuple[HardwareSnapshot, ...]:
        with self._lock:
            return tuple(self._history)

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def sample_once(self) -> HardwareSnapshot:
        snap = self._source()
        with self._lock:
            self._history.append(snap)
        for listener in list(self._listeners):
            try:
                listener(snap)
            except Exception:
                log.exception("hardware listener failed")
        return snap

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hw-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # a flaky sensor must not kill the dashboard
                log.exception("hardware sample failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if self._gpu is not None:
            self._gpu.close()


def with_gpus(snap: HardwareSnapshot, gpus: Sequence[GpuSample]) -> HardwareSnapshot:
    return replace(snap, gpus=tuple(gpus), gpu_note="")
