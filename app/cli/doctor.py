"""``nanobot doctor [--json]``: environment, hardware, tier, models, fits, providers, config."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from app.core.models.doctor import FAIL, DoctorReport, run_doctor

MARK = {"ok": "✓", "info": "·", "warn": "!", "fail": "✗"}
SECTIONS = ("config", "environment", "hardware", "tier", "models", "fits", "recommended",
            "providers", "mcp")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check the environment, hardware, models and providers")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)


def render_text(report: DoctorReport) -> str:
    lines = [f"Nanobot doctor — tier {report.tier.tier.label} ({report.tier.reason})", ""]
    for section in SECTIONS:
        checks = report.section(section)
        if not checks:
            continue
        lines.append(section.capitalize())
        for c in checks:
            lines.append(f"  {MARK[c.status]} {c.name}: {c.detail}")
            if c.fix and c.status in ("warn", "fail"):
                lines.append(f"      fix: {c.fix}")
        lines.append("")
    fails = sum(1 for c in report.checks if c.status == FAIL)
    warns = sum(1 for c in report.checks if c.status == "warn")
    lines.append(f"{fails} problem(s), {warns} warning(s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = asyncio.run(run_doctor())
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_text(report) + "\n")
    return 1 if report.worst == FAIL else 0
