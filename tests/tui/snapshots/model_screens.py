"""Fixed data for the dashboard, doctor and picker screens (snapshot and Pilot tests)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.screen import Screen

from app.core.models.doctor import Check, DoctorReport
from app.core.models.hardware import HardwareSampler, HardwareSnapshot, fixed_snapshot
from app.core.models.manager import SlotState, SlotStatus
from app.core.models.recommend import recommend
from app.core.models.tiers import classify
from app.core.providers.router import RouteDecision

TWO_GPUS = [("RTX 4090", 24, 6.5), ("RTX 3060", 12, 1.0)]


class FixedSlots:
    def __init__(self, statuses: tuple[SlotStatus, ...]) -> None:
        self._statuses = statuses
        self.listeners: list[Callable[[SlotStatus], None]] = []

    def statuses(self) -> tuple[SlotStatus, ...]:
        return self._statuses

    def add_listener(self, listener: Callable[[SlotStatus], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: None


BUSY_SLOTS = (
    SlotStatus("main", "qwen3-30b-a3b-instruct-2507", "/m/q.gguf", "server", SlotState.READY,
               context=32768, port=8081, tok_s=41.5, message="llama-server ready"),
    SlotStatus("rlm", "Nanbeige4.1-3B.Q8_0", "/m/n.gguf", "server", SlotState.LOADING,
               context=16384, port=8082, message="loading (3.2 s)"),
    SlotStatus("memory", "Qwen3-0.6B-Q4_K_M", "/m/q06.gguf", "server", SlotState.FAILED,
               context=8192, message="port 8083 is already in use; running in-process instead"),
)

QUIET_SLOTS = (
    SlotStatus("main", "qwen2.5-coder-0.5b", "/d/q.gguf", "inprocess", SlotState.READY,
               context=8192, tok_s=43.2, message="loaded in-process"),
    SlotStatus("rlm", "qwen2.5-coder-0.5b", "/d/q.gguf", "inprocess", SlotState.READY,
               context=8192, shared_with="main"),
    SlotStatus("memory", "qwen2.5-coder-0.5b", "/d/q.gguf", "inprocess", SlotState.READY,
               context=8192, shared_with="main"),
)


def sampler_with(snaps: list[HardwareSnapshot]) -> HardwareSampler:
    it = iter(snaps)
    sampler = HardwareSampler(source=lambda: next(it, snaps[-1]), history=30)
    for _ in snaps:
        sampler.sample_once()
    return sampler


def gpu_history() -> list[HardwareSnapshot]:
    return [fixed_snapshot(ram_gib=64, ram_available_gib=40 - i, cores=16,
                           cpu_percent=float(10 + (i * 37) % 80), gpus=TWO_GPUS)
            for i in range(12)]


def cpu_history() -> list[HardwareSnapshot]:
    return [fixed_snapshot(ram_gib=24, ram_available_gib=18 - i / 4, cores=2,
                           cpu_percent=float((i * 23) % 100)) for i in range(12)]


def fixed_report() -> DoctorReport:
    hw = fixed_snapshot(ram_gib=24, cores=2)
    checks = (
        Check("config", "file", "ok", "/home/user/.config/nanobot/config.toml"),
        Check("environment", "python", "ok", "Python 3.11.7 on Linux x86_64"),
        Check("environment", "colours", "warn", "basic colours only (TERM=xterm)",
              "export COLORTERM=truecolor if your terminal supports it"),
        Check("hardware", "cpu", "warn", "2 logical / 2 physical cores, load 1.00",
              "2 cores: expect a few tokens/s from 3B models"),
        Check("hardware", "gpu", "info", "none (no NVIDIA driver or GPU)"),
        Check("tier", "tier", "ok", "Sweet: RAM 24.0 GiB >= 15, VRAM 0.0 GiB (no GPU)"),
        Check("fits", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M", "ok",
              "on the CPU, context 8192 (largest that fits: 32768), KV 12 KiB/token"),
        Check("fits", "Qwen3-30B-A3B-Instruct-2507-Q4_K_S", "fail",
              "too big here: needs about 16.5 GiB with a 2048-token context; 15.8 GiB is free",
              "use a smaller quantisation or model; fits here: Qwen2.5-Coder-0.5B"),
        Check("providers", "openai", "fail", "https://api.openai.com/v1 refused the key (401)",
              "export OPENAI_API_KEY=<your key>"),
    )
    return DoctorReport(checks, hw, classify(hw), recommend(hw))


ROUTE = RouteDecision("standard", 3.0, ("likely needs tools +1",), "local:main")


class HostApp(App[None]):
    """Shows one screen on top of an empty base, the way the main app pushes it."""

    def __init__(self, make: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self._make = make

    def on_mount(self) -> None:
        self.push_screen(self._make())
