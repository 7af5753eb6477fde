"""Snapshots of the dashboard and the doctor view with frozen hardware numbers."""

from __future__ import annotations

from app.screens.dashboard import DashboardScreen
from app.screens.doctor import DoctorScreen
from tests.snapshots.model_screens import (
    BUSY_SLOTS,
    QUIET_SLOTS,
    ROUTE,
    FixedSlots,
    HostApp,
    cpu_history,
    fixed_report,
    gpu_history,
    sampler_with,
)


def test_dashboard_two_gpus(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def make() -> DashboardScreen:
        return DashboardScreen(sampler_with(gpu_history()), FixedSlots(BUSY_SLOTS),
                               route=lambda: ROUTE, start_sampler=False)

    assert snap_compare(HostApp(make), terminal_size=(110, 30))


def test_dashboard_cpu_only_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    def make() -> DashboardScreen:
        return DashboardScreen(sampler_with(cpu_history()), FixedSlots(QUIET_SLOTS),
                               start_sampler=False)

    assert snap_compare(HostApp(make), terminal_size=(80, 24))


def test_doctor_view(snap_compare) -> None:  # type: ignore[no-untyped-def]
    report = fixed_report()

    async def runner():  # type: ignore[no-untyped-def]
        return report

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(HostApp(lambda: DoctorScreen(runner)), terminal_size=(100, 30),
                        run_before=settle)
