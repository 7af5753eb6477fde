"""The doctor report as a screen (key ``d`` on the dashboard, ``/doctor`` in the prompt)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from app.core.models.doctor import DoctorReport, run_doctor
from widgets.doctor_view import DoctorView

Runner = Callable[[], Awaitable[DoctorReport]]


class DoctorScreen(Screen[None]):
    TITLE = "Nanobot — doctor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "rerun", "Run again"),
    ]

    def __init__(self, runner: Runner | None = None) -> None:
        super().__init__()
        self.runner = runner or run_doctor
        self.report: DoctorReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield DoctorView(id="doctor")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.run_checks()

    @work(group="doctor", exclusive=True, exit_on_error=False)
    async def run_checks(self) -> None:
        self.report = await self.runner()
        self.query_one(DoctorView).show(self.report)

    def action_rerun(self) -> None:
        self.run_checks()
