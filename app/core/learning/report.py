"""Plain-text views of traces, statistics and learned recipes, shared by the CLI and the TUI."""

from __future__ import annotations

import time
from collections.abc import Iterable

from app.core.learning.recipes import Recipe
from app.core.learning.stats import CategoryStats
from app.core.learning.traces import TraceView

TRACE_COLUMNS = ("when", "category", "task", "steps", "time", "outcome", "calls")
STATS_COLUMNS = ("category", "runs", "success", "avg steps", "P75", "budget", "avg time",
                 "median time", "avg tokens", "depth", "fan-out")


def outcome_text(view: TraceView) -> str:
    status = str(view.record.get("status", ""))
    if view.success is None:
        return "unjudged" if status in ("finished", "") else status
    mark = "✓" if view.success else "✗"
    return f"{mark} {view.judged_by}" if view.judged_by else mark


def trace_row(view: TraceView, task_width: int = 48) -> tuple[str, ...]:
    task = " ".join(view.task.split())
    if len(task) > task_width:
        task = task[:task_width - 1] + "…"
    names = [str(c.get("name", "")) + ("" if c.get("ok", True) else "✗") for c in view.calls]
    recipe = view.record.get("recipe")
    calls = " ".join(names) + (f" [recipe {recipe}]" if recipe else "")
    when = time.strftime("%m-%d %H:%M", time.localtime(view.ts)) if view.ts else ""
    return (when, view.category or view.kind, task, str(view.steps), f"{view.seconds:.1f}s",
            outcome_text(view), calls)


def table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> str:
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def traces_text(views: list[TraceView]) -> str:
    if not views:
        return "No traces yet: every turn is recorded once it ends ([learning] traces = true)."
    return table((trace_row(v) for v in views), TRACE_COLUMNS)


def stats_row(s: CategoryStats) -> tuple[str, ...]:
    rate = "-" if s.success_rate is None else f"{100 * s.success_rate:.0f}% of {s.judged}"
    return (s.category, str(s.runs), rate, f"{s.avg_steps:.1f}", f"{s.p75_steps:.1f}",
            "-" if s.budget is None else str(s.budget), f"{s.avg_seconds:.1f}s",
            f"{s.median_seconds:.1f}s", f"{s.avg_tokens:.0f}", str(s.max_depth),
            f"{s.avg_fan_out:.1f}")


def stats_text(rows: list[CategoryStats]) -> str:
    if not rows:
        return "No statistics yet: they build up as turns are recorded."
    return table((stats_row(r) for r in rows), STATS_COLUMNS)


def recipe_line(recipe: Recipe) -> str:
    st = recipe.stats
    state = "enabled" if recipe.enabled else (f"demoted: {recipe.demoted}" if recipe.demoted
                                              else "disabled")
    steps = " → ".join(s.tool for s in recipe.steps)
    uses = int(st.get("uses", 0))
    used = (f", used {uses}× ({int(st.get('successes', 0))} ok, "
            f"{float(st.get('avg_seconds_used', 0.0)):.1f}s avg)" if uses else "")
    return (f"{recipe.name} [{state}]: {steps}; learned from {st.get('learned_from', '?')} "
            f"runs, {float(st.get('avg_steps', 0.0)):.1f} steps and "
            f"{float(st.get('avg_seconds', 0.0)):.1f}s on average{used}")
