"""The hardware sampler reads real numbers in a thread and hands over frozen snapshots."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from app.core.models.hardware import HardwareSampler, HardwareSnapshot, sample_once


def test_sample_once_reads_this_machine() -> None:
    snap = sample_once()
    assert snap.ram_total > snap.ram_used > 0
    assert snap.process_rss > 1_000_000 and snap.cpu_count >= 1
    assert 0.0 <= snap.cpu_percent <= 100.0 and 0.0 < snap.ram_percent < 100.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.cpu_percent = 1.0  # type: ignore[misc]


def test_sampler_delivers_from_its_own_thread_and_stops() -> None:
    got: list[tuple[HardwareSnapshot, str]] = []
    arrived = threading.Event()

    def callback(snap: HardwareSnapshot) -> None:
        got.append((snap, threading.current_thread().name))
        arrived.set()

    sampler = HardwareSampler(callback, interval=0.05)
    sampler.start()
    assert arrived.wait(timeout=10), "no snapshot within 10 s"
    sampler.stop()
    assert not sampler.running
    assert got[0][1] == "hw-sampler"
