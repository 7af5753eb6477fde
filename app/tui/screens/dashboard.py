"""The full-screen dashboard: CPU, RAM and each GPU with sparklines, the tier, and the slots.

Hardware numbers come from a :class:`HardwareSampler` (a core thread); this screen only renders
the snapshots it is handed. Keys: ``d`` doctor, ``m`` models, ``r`` sample now, ``escape`` back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from app.core.models.hardware import GiB, HardwareSampler, HardwareSnapshot
from app.core.models.manager import SlotStatus
from app.core.models.tiers import classify
from app.core.providers.router import RouteDecision
from app.tui.screens.doctor import Runner
from widgets.resource_meter import ResourceMeter
from widgets.slot_table import SlotTable


class SlotSource(Protocol):
    def statuses(self) -> tuple[SlotStatus, ...]: ...

    def add_listener(self, listener: Callable[[SlotStatus], None]) -> Callable[[], None]: ...


def _pct(values: Sequence[float]) -> list[float]:
    return [max(0.0, min(100.0, v)) for v in values]


class DashboardScreen(Screen[None]):
    TITLE = "Nanobot — dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("d", "doctor", "Doctor"),
        Binding("m", "models", "Models"),
        Binding("r", "sample", "Refresh"),
    ]
    DEFAULT_CSS = """
    DashboardScreen .dash-title { text-style: bold; color: $accent; margin-top: 1; }
    DashboardScreen #tier { color: $text; }
    DashboardScreen #route { color: $text-muted; margin-top: 1; }
    DashboardScreen #dash-body { padding: 0 1; }
    DashboardScreen #meters { height: auto; }
    """

    def __init__(self, sampler: HardwareSampler, slots: SlotSource | None = None, *,
                 route: Callable[[], RouteDecision | None] | None = None,
                 start_sampler: bool = True, doctor: Runner | None = None) -> None:
        super().__init__()
        self.doctor = doctor
        self.sampler = sampler
        self.slots = slots
        self.route = route
        self.start_sampler = start_sampler
        self._unsubscribe: list[Callable[[], None]] = []
        latest = sampler.latest
        self.gpu_count = latest.gpu_count if latest else 0

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="dash-body"):
            yield Static("", id="tier")
            yield Static("Hardware", classes="dash-title")
            with Vertical(id="meters"):
                yield ResourceMeter("CPU", id="cpu")
                yield ResourceMeter("RAM", id="ram")
                for i in range(self.gpu_count):
                    yield ResourceMeter(f"GPU{i} util", id=f"gpu{i}-util")
                    yield ResourceMeter(f"GPU{i} VRAM", id=f"gpu{i}-vram")
            yield Static("", id="gpu-note")
            yield Static("Models", classes="dash-title")
            yield SlotTable(id="slots")
            yield Static("", id="route")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self._unsubscribe.append(self.sampler.add_listener(self._from_thread))
        if self.slots is not None:
            self._unsubscribe.append(self.slots.add_listener(lambda _st: self.show_slots()))
        if self.start_sampler:
            self.sampler.start()
        self.show_hardware()
        self.show_slots()

    def on_unmount(self) -> None:
        for off in self._unsubscribe:
            off()
        if self.start_sampler:
            self.sampler.stop()

    def _from_thread(self, _snap: HardwareSnapshot) -> None:
        self.app.call_from_thread(self.show_hardware)

    # --- rendering ---------------------------------------------------------------------------

    def show_hardware(self) -> None:
        snap = self.sampler.latest
        if snap is None:
            return
        history = self.sampler.history
        verdict = classify(snap)
        self.query_one("#tier", Static).update(f"Tier {verdict.tier.label} — {verdict.reason}; "
                                               f"{snap.cores_logical} cores")
        self.query_one("#cpu", ResourceMeter).show(
            snap.cpu_percent / 100, f"{snap.cpu_percent:5.1f}%",
            _pct([h.cpu_percent for h in history]))
        ram_hist = [100 * h.ram_used / h.ram_total for h in history if h.ram_total]
        self.query_one("#ram", ResourceMeter).show(
            snap.ram_used / snap.ram_total if snap.ram_total else 0,
            f"{snap.ram_used / GiB:5.1f}/{snap.ram_total / GiB:.1f} GiB", _pct(ram_hist))
        for g in snap.gpus[:self.gpu_count]:
            util_hist = [h.gpus[g.index].util_percent or 0.0 for h in history
                         if len(h.gpus) > g.index]
            extra = " ".join(x for x in (
                f"{g.temperature_c:.0f}°C" if g.temperature_c is not None else "",
                f"{g.power_w:.0f} W" if g.power_w is not None else "") if x)
            util = g.util_percent or 0.0
            self.query_one(f"#gpu{g.index}-util", ResourceMeter).show(
                util / 100, f"{util:5.1f}% {g.name} {extra}".rstrip(), _pct(util_hist))
            vram_hist = [100 * h.gpus[g.index].mem_used / h.gpus[g.index].mem_total
                         for h in history if len(h.gpus) > g.index and h.gpus[g.index].mem_total]
            self.query_one(f"#gpu{g.index}-vram", ResourceMeter).show(
                g.mem_used / g.mem_total if g.mem_total else 0,
                f"{g.mem_used / GiB:5.1f}/{g.mem_total / GiB:.1f} GiB", _pct(vram_hist))
        self.query_one("#gpu-note", Static).update(
            "" if snap.gpus else f"GPU: {snap.gpu_note or 'none'}")

    def show_slots(self) -> None:
        table = self.query_one(SlotTable)
        if self.slots is not None:
            table.show(self.slots.statuses())
        decision = self.route() if self.route else None
        self.query_one("#route", Static).update(
            f"Last route: {decision.describe()}" if decision else "Last route: none yet")

    # --- actions -----------------------------------------------------------------------------

    def action_sample(self) -> None:
        self.sampler.sample_once()
        self.show_hardware()
        self.show_slots()

    def action_doctor(self) -> None:
        from app.tui.screens.doctor import DoctorScreen

        self.app.push_screen(DoctorScreen(self.doctor))

    def action_models(self) -> None:
        opener = getattr(self.app, "open_model_picker", None)
        if callable(opener):
            opener()
        else:
            self.notify("The model picker needs a running session.", severity="warning")
