"""The learning-curve plot as a hand-written SVG (no plotting library): steps, seconds and
success per task, moving averages, learning off (grey) against learning on (blue)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WIDTH, PANEL_H, MARGIN_L, MARGIN_R, GAP = 760, 170, 64, 120, 46
COLOURS = {"off": "#8a8a8a", "on": "#1f6feb"}
LABELS = {"off": "learning off", "on": "learning on"}


def moving_average(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if v <= step:
            return float(step)
    return float(v)


def _panel(title: str, key: str, res: dict[str, list[dict[str, Any]]], top: float,
           window: int, unit: str = "", fixed_max: float | None = None) -> list[str]:
    n = len(res["off"])
    plot_w = WIDTH - MARGIN_L - MARGIN_R
    series = {m: moving_average([float(r[key]) * (100 if key == "passed" else 1) for r in rows],
                                window) for m, rows in res.items()}
    ymax = fixed_max or _nice_max(max(max(s) for s in series.values()) * 1.1)
    out = [f'<text x="{MARGIN_L}" y="{top - 8}" class="t">{title} (moving average over '
           f'{window} tasks)</text>',
           f'<rect x="{MARGIN_L}" y="{top}" width="{plot_w}" height="{PANEL_H}" class="frame"/>']
    for i in range(5):
        y = top + PANEL_H - PANEL_H * i / 4
        val = ymax * i / 4
        out.append(f'<line x1="{MARGIN_L}" y1="{y:.1f}" x2="{MARGIN_L + plot_w}" y2="{y:.1f}" '
                   'class="grid"/>')
        out.append(f'<text x="{MARGIN_L - 6}" y="{y + 4:.1f}" class="yl">{val:g}{unit}</text>')
    for m, s in series.items():
        pts = " ".join(f"{MARGIN_L + plot_w * i / max(1, n - 1):.1f},"
                       f"{top + PANEL_H - PANEL_H * min(v, ymax) / ymax:.1f}"
                       for i, v in enumerate(s))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS[m]}" '
                   'stroke-width="2"/>')
        last = s[-1] if s else 0.0
        y_last = top + PANEL_H - PANEL_H * min(last, ymax) / ymax + 4
        out.append(f'<text x="{MARGIN_L + plot_w + 8}" y="{y_last:.1f}" '
                   f'fill="{COLOURS[m]}" class="l">{LABELS[m]}: {last:.1f}{unit}</text>')
    for i in range(0, n + 1, max(50, (n // 6) // 50 * 50 or 50)):
        x = MARGIN_L + plot_w * i / max(1, n - 1)
        out.append(f'<text x="{x:.1f}" y="{top + PANEL_H + 14}" class="xl">{i}</text>')
    return out


def write_svg(res: dict[str, list[dict[str, Any]]], path: Path, window: int = 25) -> Path:
    n = len(res["off"])
    height = 3 * (PANEL_H + GAP) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">',
             "<style>.t{font-size:13px;font-weight:bold}.yl{font-size:10px;text-anchor:end}"
             ".xl{font-size:10px;text-anchor:middle}.l{font-size:11px}"
             ".frame{fill:#fff;stroke:#444}.grid{stroke:#e3e3e3}</style>",
             f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>']
    top = 30.0
    for title, key, unit, fixed in (("Model steps per task", "steps", "", None),
                                    ("Seconds per task", "seconds", " s", None),
                                    ("Success", "passed", "%", 100.0)):
        parts += _panel(title, key, res, top, window, unit, fixed)
        top += PANEL_H + GAP
    parts.append(f'<text x="{MARGIN_L}" y="{height - 8}" class="xl" text-anchor="start">'
                 f'task number (1-{n}); same tasks, model and seed in both runs</text>')
    parts.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n")
    return path
