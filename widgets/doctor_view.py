"""The doctor report as a scrollable view: one line per check, fixes under problems."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.core.models.doctor import DoctorReport

MARK = {"ok": ("✓", "green"), "info": ("·", "dim"), "warn": ("!", "yellow"),
        "fail": ("✗", "red bold")}
SECTIONS = ("config", "environment", "hardware", "tier", "models", "fits", "recommended",
            "providers", "mcp")


def report_text(report: DoctorReport) -> Text:
    out = Text()
    out.append(f"Tier {report.tier.tier.label}", style="bold")
    out.append(f" — {report.tier.reason}\n\n")
    for section in SECTIONS:
        checks = report.section(section)
        if not checks:
            continue
        out.append(section.capitalize() + "\n", style="bold underline")
        for c in checks:
            mark, style = MARK[c.status]
            out.append(f"  {mark} ", style=style)
            out.append(f"{c.name}: ", style="bold")
            out.append(c.detail + "\n")
            if c.fix and c.status in ("warn", "fail"):
                out.append(f"      fix: {c.fix}\n", style="italic")
        out.append("\n")
    return out


class DoctorView(VerticalScroll):
    DEFAULT_CSS = """
    DoctorView { height: 1fr; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.report: DoctorReport | None = None

    def compose(self) -> ComposeResult:
        yield Static("Checking…", id="doctor-body")

    def show(self, report: DoctorReport) -> None:
        self.report = report
        self.query_one("#doctor-body", Static).update(report_text(report))
