"""Pilot tests for the model screens and commands: dashboard keys, doctor, model picker,
/model, /local, /doctor and /dashboard in the main app."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from app.core.providers.scripted import ScriptedProvider
from app.core.providers.stack import build_stack
from app.core.settings.config import parse_config
from app.tui.app import NanobotApp
from app.tui.screens.dashboard import DashboardScreen
from app.tui.screens.doctor import DoctorScreen
from app.tui.screens.model_picker import ModelPickerScreen
from tests.pilot_wait import until
from tests.tui.harness import make_factory
from tests.tui.snapshots.model_screens import (
    BUSY_SLOTS,
    FixedSlots,
    HostApp,
    fixed_report,
    gpu_history,
    sampler_with,
)
from widgets.doctor_view import DoctorView
from widgets.resource_meter import ResourceMeter
from widgets.slot_table import SlotTable


async def test_dashboard_keys(tmp_path: Path) -> None:
    report = fixed_report()

    async def runner():  # type: ignore[no-untyped-def]
        return report

    sampler = sampler_with(gpu_history())
    before = len(sampler.history)
    app = HostApp(lambda: DashboardScreen(sampler, FixedSlots(BUSY_SLOTS), start_sampler=False,
                                          doctor=runner))
    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        assert dash.query_one("#gpu1-vram", ResourceMeter).figure == "  1.0/12.0 GiB"
        table = dash.query_one(SlotTable)
        assert [s.slot for s in table.statuses] == ["main", "rlm", "memory"]
        await pilot.press("r")
        assert len(sampler.history) == min(30, before + 1)
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DoctorScreen)
        assert app.screen.query_one(DoctorView).report is report
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is dash
        await pilot.press("m")  # no session here: a warning, no crash
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DashboardScreen)


def make_app(tmp_path: Path, config: str = "[local.main]\ncontext_size = 1024\n") -> NanobotApp:
    stack = build_stack(parse_config(config))
    return NanobotApp(make_factory(tmp_path, ScriptedProvider(["hello"])), stack=stack)


def notices(app: NanobotApp) -> list[str]:
    return [n.text for n in app.conversation.blocks if n.kind == "notice"]


async def test_slash_commands_in_the_app(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/model list", "enter")
        await pilot.pause()
        assert notices(app)[-1].startswith("main: qwen2.5-coder-0.5b (inprocess")
        await pilot.press(*"/model nope", "enter")
        await pilot.pause()
        assert "unknown model or provider 'nope'" in notices(app)[-1]
        await pilot.press(*"/model unload gpu", "enter")
        await pilot.pause()
        assert notices(app)[-1].startswith("usage: /model")
        await pilot.press(*"/local", "enter")
        await pilot.pause()
        assert notices(app)[-1].startswith("no cloud provider configured")
        # The short names run the same commands.
        await pilot.press(*"/m list", "enter")
        await until(pilot, lambda: notices(app)[-1].startswith("main: qwen2.5-coder-0.5b"),
                    what="/m list")
        await pilot.press(*"/l", "enter")
        await until(pilot, lambda: len([n for n in notices(app)
                                        if n.startswith("no cloud provider")]) == 2, what="/l")
        provider = app.session.provider
        assert provider.requests == []  # type: ignore[attr-defined]  # nothing reached the model
        await pilot.press(*"/doctor", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DoctorScreen)
        await pilot.press("escape")
        await pilot.press(*"/dashboard", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one("#cpu", ResourceMeter).figure.endswith("%")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press(*"/dash", "enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="/dash")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DashboardScreen)
    await app.stack.aclose()  # type: ignore[union-attr]


async def test_picker_cycles_slots_and_cancels(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"/model", "enter")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen) and picker.slot == "main"
        labels = [str(picker.query_one(OptionList).get_option_at_index(i).prompt)
                  for i in range(picker.query_one(OptionList).option_count)]
        assert labels[0] == "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (embedded)"
        await pilot.press("tab")
        assert picker.slot == "rlm"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ModelPickerScreen)


@pytest.mark.model
async def test_picker_switches_a_slot(model_path: Path, tmp_path: Path) -> None:
    app = make_app(tmp_path, "[local.main]\ncontext_size = 1024\n[local.memory]\n"
                             "model = \"qwen2.5-coder-0.5b\"\ncontext_size = 2048\n")
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_model_picker()
        await pilot.pause()
        await pilot.press("tab", "tab")  # memory
        assert app.screen.slot == "memory"  # type: ignore[attr-defined]
        await pilot.press("enter")  # the first option: the embedded default
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notices(app)[-1] == "memory → qwen2.5-coder-0.5b (ready)"
        st = app.stack.manager.status("memory")  # type: ignore[union-attr]
        assert st.state.value == "ready" and st.context == 2048
    await app.stack.aclose()  # type: ignore[union-attr]


async def test_palette_offers_model_commands(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"models dashboard")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"unload memory")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert notices(app)[-1] == "memory unloaded; it loads again when it is next used"
    await app.stack.aclose()  # type: ignore[union-attr]


async def test_model_panel_says_where_the_slot_runs(tmp_path: Path) -> None:
    # The session talks to the manager's slot ("local:main"); the panel once called that HTTP.
    stack = build_stack(parse_config("[local.main]\ncontext_size = 1024\n"))
    app = NanobotApp(make_factory(tmp_path, stack.provider), stack=stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.hardware_panel.model_detail.startswith("local:main · in-process · ctx")
    await stack.aclose()
