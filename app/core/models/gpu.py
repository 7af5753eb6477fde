"""NVIDIA GPUs through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

No package, no driver, no GPU: each is a normal state with a reason string, never an exception. The
NVML module is injectable so tests can hand in a fake with several GPUs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuSample:
    """One GPU at one moment. Fields NVML does not support on a card are ``None``."""

    index: int
    name: str
    mem_total: int
    mem_used: int
    util_percent: float | None = None
    temperature_c: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None

    @property
    def mem_free(self) -> int:
        return max(0, self.mem_total - self.mem_used)


class NvmlReader:
    """Opens NVML once and reads every GPU on demand; thread-safe."""

    def __init__(self, nvml: Any | None = None) -> None:
        self._nvml = nvml
        self._lock = threading.Lock()
        self._handles: list[Any] = []
        self._opened = False
        self.available = False
        self.reason = "not opened"
        self.driver = ""

    def open(self) -> bool:
        """Initialise NVML; False (with :attr:`reason`) when it cannot be used here."""
        with self._lock:
            if self._opened:
                return self.available
            self._opened = True
            nvml = self._nvml
            if nvml is None:
                try:
                    import pynvml

                    nvml = pynvml
                except ImportError:
                    self.reason = "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
                    return False
            self._nvml = nvml
            try:
                nvml.nvmlInit()
            except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
                self.reason = f"no NVIDIA driver or GPU ({type(exc).__name__}: {exc})"
                return False
            try:
                count = int(nvml.nvmlDeviceGetCount())
                self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
                self.driver = _text(_safe(nvml.nvmlSystemGetDriverVersion)) or ""
            except Exception as exc:
                self.reason = f"NVML could not list GPUs ({type(exc).__name__}: {exc})"
                return False
            if not self._handles:
                self.reason = "NVIDIA driver present but no GPU found"
                return False
            self.available = True
            self.reason = ""
            return True

    def read(self) -> tuple[GpuSample, ...]:
        if not self._opened:
            self.open()
        if not self.available:
            return ()
        with self._lock:
            return tuple(self._read_one(i, h) for i, h in enumerate(self._handles))

    def _read_one(self, index: int, handle: Any) -> GpuSample:
        nvml: Any = self._nvml
        name = _text(_safe(nvml.nvmlDeviceGetName, handle)) or f"GPU {index}"
        mem = _safe(nvml.nvmlDeviceGetMemoryInfo, handle)
        util = _safe(nvml.nvmlDeviceGetUtilizationRates, handle)
        temp = _safe(nvml.nvmlDeviceGetTemperature, handle,
                     getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
        power = _safe(nvml.nvmlDeviceGetPowerUsage, handle)  # milliwatts
        limit = _safe(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
        return GpuSample(
            index=index, name=name,
            mem_total=int(getattr(mem, "total", 0) or 0), mem_used=int(getattr(mem, "used", 0) or 0),
            util_percent=float(util.gpu) if util is not None else None,
            temperature_c=float(temp) if temp is not None else None,
            power_w=power / 1000.0 if power is not None else None,
            power_limit_w=limit / 1000.0 if limit is not None else None)

    def close(self) -> None:
        with self._lock:
            if self.available and self._nvml is not None:
                _safe(self._nvml.nvmlShutdown)
            self.available = False
            self._handles = []


def _safe(fn: Any, *args: Any) -> Any:
    """Call an NVML function; unsupported fields on a card come back as ``None``."""
    try:
        return fn(*args)
    except Exception as exc:
        log.debug("NVML %s failed: %s", getattr(fn, "__name__", fn), exc)
        return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)
