"""Hardware sampling: psutil for real, NVML missing for real, several GPUs through a fake."""

from __future__ import annotations

import sys
import threading

import pytest

from app.core.models.gpu import NvmlReader
from app.core.models.hardware import (
    GiB,
    HardwareSampler,
    fixed_snapshot,
    is_unified_memory,
    take_snapshot,
)
from tests.fake_nvml import FakeGpu, FakeNvml, NVMLError


def test_real_snapshot_of_this_machine() -> None:
    snap = take_snapshot(NvmlReader())
    assert snap.cores_logical >= 1 and len(snap.cpu_per_core) == snap.cores_logical
    assert snap.ram_total > snap.ram_available > 0
    assert all(0.0 <= c <= 100.0 for c in snap.cpu_per_core)
    if not snap.gpus:  # the build machine has no GPU: that is a state with a reason
        assert snap.gpu_note and snap.vram_total == 0


def test_nvml_library_missing_on_this_machine_is_a_reason_not_an_error() -> None:
    pytest.importorskip("pynvml")  # installed as a core dependency
    reader = NvmlReader()
    if reader.open():
        pytest.skip("this machine has a working NVIDIA driver")  # why: the path under test is absent
    assert reader.read() == ()
    assert "no NVIDIA driver or GPU" in reader.reason


def test_package_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes ``import pynvml`` fail
    reader = NvmlReader()
    assert reader.open() is False
    assert "nvidia-ml-py is not installed" in reader.reason
    snap = take_snapshot(reader)
    assert snap.gpus == () and "nvidia-ml-py" in snap.gpu_note


def test_driver_init_failure() -> None:
    reader = NvmlReader(FakeNvml(init_error=NVMLError("Driver Not Loaded")))
    assert not reader.open() and "Driver Not Loaded" in reader.reason


def test_driver_without_gpus() -> None:
    reader = NvmlReader(FakeNvml(gpus=[]))
    assert not reader.open() and "no GPU" in reader.reason


def test_two_gpus_and_an_unsupported_sensor() -> None:
    fake = FakeNvml(gpus=[FakeGpu("RTX 4090", 24 * GiB, 2 * GiB, util=55, temp=61),
                          FakeGpu("RTX 3060", 12 * GiB, 1 * GiB, util=0, power_mw=None)])
    reader = NvmlReader(fake)
    snap = take_snapshot(reader)
    assert [g.name for g in snap.gpus] == ["RTX 4090", "RTX 3060"]
    assert snap.vram_total == 36 * GiB and snap.vram_free == 33 * GiB
    first, second = snap.gpus
    assert first.util_percent == 55.0 and first.temperature_c == 61.0 and first.power_w == 100.0
    assert second.power_w is None and second.power_limit_w == 300.0
    assert reader.driver == "550.54" and snap.gpu_note == ""
    reader.close()
    assert fake.shutdowns == 1


def test_unified_memory_detection() -> None:
    assert is_unified_memory("Darwin", "arm64")
    assert not is_unified_memory("Darwin", "x86_64") and not is_unified_memory("Linux", "arm64")


def test_sampler_thread_delivers_frozen_snapshots() -> None:
    snaps = [fixed_snapshot(cpu_percent=float(i)) for i in range(5)]
    it = iter(snaps)
    got: list[float] = []
    done = threading.Event()

    def source():  # type: ignore[no-untyped-def]
        return next(it, snaps[-1])

    def listener(snap) -> None:  # type: ignore[no-untyped-def]
        got.append(snap.cpu_percent)
        if len(got) >= 3:
            done.set()

    sampler = HardwareSampler(interval=0.01, history=2, source=source)
    sampler.add_listener(listener)
    sampler.start()
    assert done.wait(10)
    sampler.stop()
    assert got[:3] == [0.0, 1.0, 2.0]
    assert len(sampler.history) == 2 and sampler.latest is sampler.history[-1]
    with pytest.raises(AttributeError):
        sampler.latest.cpu_percent = 9.0  # type: ignore[misc,union-attr]


def test_a_failing_listener_does_not_stop_sampling() -> None:
    sampler = HardwareSampler(source=lambda: fixed_snapshot())

    def bad(_snap) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    sampler.add_listener(bad)
    assert sampler.sample_once().ram_total == 24 * GiB
    assert sampler.latest is not None


def test_a_real_reading_has_what_the_side_panel_shows() -> None:
    snap = take_snapshot(None, cpu_interval=0.05)
    assert snap.ram_total > snap.ram_used > 0 and 0.0 < snap.ram_percent < 100.0
    assert snap.process_rss > 1_000_000 and snap.cpu_count == snap.cores_logical >= 1
    assert 0.0 <= snap.cpu_percent <= 100.0 and snap.gpu_note == "GPU sampling off"


def test_the_real_sampler_delivers_from_its_own_thread_and_stops() -> None:
    got: list[tuple[float, str]] = []
    arrived = threading.Event()

    def listener(snap) -> None:  # type: ignore[no-untyped-def]
        got.append((snap.process_rss, threading.current_thread().name))
        arrived.set()

    sampler = HardwareSampler(interval=0.05, gpus=False)
    sampler.add_listener(listener)
    sampler.start()
    assert sampler.running and arrived.wait(timeout=10), "no snapshot within 10 s"
    sampler.stop()
    assert not sampler.running
    assert got[0][0] > 1_000_000 and got[0][1] == "hw-sampler"
