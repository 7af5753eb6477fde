"""Snapshots of the dashboard and the doctor view with frozen hardware numbers."""

from __future__ import annotations

from app.tui.screens.dashboard import DashboardScreen
from app.tui.screens.doctor import DoctorScreen
from tests.tui.snapshots.model_screens import (
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


def test_model_picker(snap_compare) -> None:  # type: ignore[no-untyped-def]
    from app.tui.screens.model_picker import ModelPickerScreen, PickerOption
    from tests.tui.snapshots.model_screens import QUIET_SLOTS

    options = [PickerOption("Qwen2.5-Coder-0.5B-Instruct Q4_K_M (embedded)", "qwen2.5-coder-0.5b"),
               PickerOption("Qwen2.5-Coder-1.5B-Instruct Q4_K_M (embedded)", "qwen2.5-coder-1.5b"),
               PickerOption("Nanbeige4.1-3B.Q4_K_M.gguf (Q4_K_M, 2.4 GB)", "/m/n.gguf"),
               PickerOption("openai:gpt-4.1-mini (config provider)", "openai:gpt-4.1-mini",
                            main_only=True)]
    assert snap_compare(HostApp(lambda: ModelPickerScreen(QUIET_SLOTS, options)),
                        terminal_size=(100, 24))


def _setup_app(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from app.core.models.hardware import fixed_snapshot
    from app.tui.setup_app import SetupApp

    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/models of the developer's in the picture
    return SetupApp(hardware=fixed_snapshot(ram_gib=24, ram_available_gib=20),
                    models_dir=Path("/srv/models"), mirror="https://mirror.example")


def test_setup_hardware_step(snap_compare, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_setup_app(monkeypatch, tmp_path), terminal_size=(100, 30))


def test_setup_models_step(snap_compare, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def to_models(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.click("#next")
        await pilot.pause()

    assert snap_compare(_setup_app(monkeypatch, tmp_path), terminal_size=(120, 34),
                        run_before=to_models)
