"""Before/after tables from ``bench/agent_tasks.py --json`` results (Markdown, for BENCHMARKS.md).

Usage: python bench/agent_report.py BEFORE.json AFTER.json [--label before --label after] [--regrade]

Per category: passed/total and unsupported claims of each run; then overall, and the median and p90
of wall-clock seconds and of CPU seconds per task with the load average seen during each run.
``--regrade`` grades each stored answer again with the current grader (the workspace part of the
grade is the stored one: the task's files are gone), for runs made before a grader fix.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.agent_grade import CATEGORIES, grade_answer, load_tasks


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))] if ordered else 0.0


def _runs(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text("utf-8"))
    runs: list[dict[str, Any]] = data["runs"]
    return runs


def _cell(results: list[dict[str, Any]]) -> str:
    ok = sum(r["passed"] for r in results)
    bad = sum(r["unsupported"] for r in results)
    return f"{ok}/{len(results)} ({bad})" if results else "-"


def table(runs: list[tuple[str, dict[str, Any]]]) -> str:
    head = "| category | " + " | ".join(label for label, _ in runs) + " |"
    rows = [head, "|---|" + "---|" * len(runs)]
    for cat in [*CATEGORIES, "all"]:
        cells = []
        for _, run in runs:
            mine = [r for r in run["results"] if cat == "all" or r["category"] == cat]
            cells.append(_cell(mine))
        name = "**all**" if cat == "all" else cat
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for what, key in (("median / p90 s (wall)", "seconds"), ("median / p90 CPU s", "cpu_s")):
        cells = []
        for _, run in runs:
            vals = [float(r.get(key, 0.0)) for r in run["results"]]
            cells.append(f"{statistics.median(vals):.1f} / {_p90(vals):.1f}" if vals else "-")
        rows.append(f"| {what} | " + " | ".join(cells) + " |")
    loads = [f"{run.get('load_before', 0):.1f}–{run.get('load_after', 0):.1f}" for _, run in runs]
    rows.append("| load average | " + " | ".join(loads) + " |")
    return "\n".join(rows)


def regrade(run: dict[str, Any]) -> int:
    """Grade ``run``'s stored answers again with the current grader; how many grades changed."""
    tasks = {t.id: t for t in load_tasks()}
    changed = 0
    for r in run["results"]:
        task = tasks.get(r["id"])
        if task is None:
            continue
        ok, unsupported, _problems = grade_answer(task, str(r.get("answer", "")))
        passed = ok and bool(r.get("files_ok", True))
        if (passed, unsupported) != (r["passed"], r["unsupported"]):
            changed += 1
        r["passed"], r["unsupported"] = passed, unsupported
    return changed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--regrade", action="store_true",
                    help="grade the stored answers again with the current grader")
    args = ap.parse_args()
    runs: list[tuple[str, dict[str, Any]]] = []
    for i, path in enumerate(args.files):
        for run in _runs(path):
            if args.regrade:
                print(f"{path}: {regrade(run)} grades changed by regrading")
            label = args.label[i] if i < len(args.label) else f"{path.stem} {run['model']}"
            runs.append((label, run))
    print("passed/total (unsupported claims)\n")
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
