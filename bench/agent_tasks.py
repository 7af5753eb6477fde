"""Does the agent do the job? Everyday tasks in fixture workspaces, graded on files and answers.

Usage:
    python bench/agent_tasks.py [--model qwen2.5-coder-0.5b] [--model qwen2.5-coder-1.5b]
                                [--only read,count] [--task ID] [--limit N] [--json out.json]

Each task runs in a fresh copy of its fixture workspace (``bench/agent_fixtures.py``) through the
path ``nanobot run -p PROMPT --yes --model M`` takes: ``build_stack`` for the model, then
``build_runtime`` (config, tools, permissions, compaction, workers, the harness) and one
``run_turn`` with tools auto-approved. The model is loaded once per model (a warm-up turn, not
timed), as it stays loaded in the app. Tasks are data (``bench/agent_task_data/*.toml``); grading
is in ``bench/agent_grade.py``. Printed per model: pass rate per category and overall,
unsupported claims, median and p90 seconds per task, and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import (
    Event,
    Notice,
    ReplyRestarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    to_record,
)
from app.core.models.embedded import models_dir
from app.core.providers.stack import build_stack
from app.core.settings.config import Config, parse_config
from app.runtime.build import build_runtime
from bench.agent_fixtures import FIXTURES, build
from bench.agent_grade import Task, grade, load_tasks, snapshot, summary_rows

DEFAULT_MODELS = ("qwen2.5-coder-0.5b",)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "    -"


def _p90(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


class _Recorder:
    """What one turn did, from its events."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.grounded: list[str] = []
        self.votes: list[str] = []
        self.notices: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.drafts: list[str] = []  # answers the harness withdrew (ReplyRestarted)
        self._text = ""

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            args = ", ".join(f"{k}={str(v)[:40]!r}" for k, v in ev.arguments.items())
            if getattr(ev, "grounded", False):
                self.grounded.append(str(ev.arguments.get("path", "")))
            else:
                self.calls.append(f"{ev.name}({args})")
            votes = getattr(ev, "votes", "")
            if votes:
                self.votes.append(votes)
        elif isinstance(ev, ToolCallFinished) and ev.is_error:
            if self.calls:
                self.calls[-1] += " ✗"
        elif isinstance(ev, Notice):
            self.notices.append(ev.text)
        elif isinstance(ev, TextDelta):
            self._text += ev.text
        elif isinstance(ev, ReplyRestarted):
            self.drafts.append(self._text)
        if isinstance(ev, ToolCallStarted | ReplyRestarted):
            self._text = ""
        rec = to_record(ev)
        if rec["type"] not in ("TextDelta", "ReasoningDelta"):
            self.events.append(rec)


async def run_task(task: Task, provider: Any, config: Config, base: Path, work: Path,
                   limit_s: float) -> dict[str, Any]:
    ws = work / task.id
    shutil.copytree(base / task.fixture, ws)
    before = snapshot(ws)
    rt = build_runtime(config=config, provider=provider, workspace=str(ws), persist=False,
                       auto_approve=True)  # --yes
    session = rt.factory.new().session
    rec = _Recorder()
    session.add_listener(rec)
    t0, c0 = time.perf_counter(), time.process_time()
    status = ""
    turn = asyncio.ensure_future(session.run_turn(task.prompt))
    done, _ = await asyncio.wait({turn}, timeout=limit_s)
    if not done:  # cancel like a user would, and let the turn wind down cleanly
        session.cancel("benchmark timeout")
        status = "timeout"
    outcome = await turn
    answer = outcome.text if status != "timeout" else ""
    status = outcome.status if status != "timeout" else status
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    g = grade(task, answer, before, ws)
    harness = session.harness
    counters = dict(harness.counters) if harness is not None else {}
    return {
        "id": task.id, "category": task.category, "prompt": task.prompt, "passed": g.passed,
        "answer_ok": g.answer_ok, "files_ok": g.files_ok, "unsupported": g.unsupported,
        "problems": g.problems, "answer": answer, "status": status, "seconds": round(seconds, 2),
        "cpu_s": round(cpu, 2), "load": round(os.getloadavg()[0], 2),
        "calls": rec.calls, "grounded": rec.grounded, "votes": rec.votes, "notices": rec.notices,
        "counters": counters, "drafts": rec.drafts,
        "events": rec.events,
    }


def print_summary(model: str, results: list[dict[str, Any]], load: tuple[float, float]) -> None:
    secs = [r["seconds"] for r in results]
    cpus = [r["cpu_s"] for r in results]
    print(f"\n== {model}: {len(results)} tasks, load average {load[0]:.2f} before / "
          f"{load[1]:.2f} after ==")
    counters: dict[str, int] = {}
    for r in results:
        for k, v in r.get("counters", {}).items():
            counters[k] = counters.get(k, 0) + v
    if counters:
        print("harness: " + ", ".join(f"{k} {v}" for k, v in sorted(counters.items()) if v))
    print(f"{'category':10} {'passed':>8} {'rate':>7} {'unsupported':>12}")
    for cat, ok, total, unsupported in summary_rows(results):
        print(f"{cat:10} {ok:>4}/{total:<3} {_pct(ok, total):>7} {unsupported:>12}")
    if secs:
        print(f"median {statistics.median(secs):.1f} s, p90 {_p90(secs):.1f} s per task, "
              f"total {sum(secs):.0f} s (wall clock)")
        print(f"median {statistics.median(cpus):.1f} s, p90 {_p90(cpus):.1f} s CPU time per task "
              "(all threads; on a busy machine this is closer to the quiet wall clock x threads)")


async def run_model(model: str, tasks: list[Task], config: Config, base: Path, work: Path,
                    limit_s: float, verbose: bool, trace: Path | None = None) -> dict[str, Any]:
    stack = build_stack(config, model, discovered=[])
    provider = stack.provider
    warm = work / "_warmup"
    warm.mkdir()
    rt = build_runtime(config=config, provider=provider, workspace=str(warm), persist=False)
    await rt.factory.new().session.run_turn("Say hi.")  # loads the model; not timed
    load_before = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    for n, task in enumerate(tasks, start=1):
        r = await run_task(task, provider, config, base, work, limit_s)
        results.append(r)
        if trace is not None:  # each result as soon as it is known, events included
            with trace.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"model": model, **r}, ensure_ascii=False, default=str) + "\n")
        mark = "✓" if r["passed"] else ("✗!" if r["unsupported"] else "✗")
        print(f"[{n}/{len(tasks)}] {mark:2} {r['seconds']:5.1f}s {r['cpu_s']:5.1f}c {task.id:24} "
              f"{' → '.join(r['calls'])[:70]} | {r['answer'][:70]!r}", flush=True)
        if verbose and not r["passed"]:
            for p in r["problems"]:
                print(f"      - {p}")
    load_after = os.getloadavg()[0]
    await stack.aclose()
    print_summary(model, results, (load_before, load_after))
    return {"model": model, "load_before": load_before, "load_after": load_after,
            # A tree without the harness (the baseline) has no [harness] section.
            "harness": (dict(vars(config.harness)) if getattr(config, "harness", None) is not None
                        else {}),
            "threads": config.local.threads,
            "summary": [dict(zip(("category", "passed", "total", "unsupported"), row, strict=True))
                        for row in summary_rows(results)],
            "median_s": statistics.median([r["seconds"] for r in results]) if results else 0,
            "median_cpu_s": statistics.median([r["cpu_s"] for r in results]) if results else 0,
            "p90_s": _p90([r["seconds"] for r in results]), "results": results}


def make_config(threads: int, pairs: list[str]) -> Config:
    """Default config with ``[local] threads`` and ``[harness]`` ``KEY=VALUE`` overrides, parsed
    like the config file (so a tree without a harness, e.g. the baseline, runs too)."""
    body = f"[local]\nthreads = {threads}\n"
    if pairs:
        body += "[harness]\n" + "\n".join(
            f"{k.strip()} = {v.strip()}" for k, _, v in (p.partition("=") for p in pairs)) + "\n"
    return parse_config(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="model id or GGUF (repeatable)")
    ap.add_argument("--only", default="", help="comma-separated categories")
    ap.add_argument("--task", action="append", default=[], help="run only these task ids")
    ap.add_argument("--limit", type=int, default=0, help="at most N tasks per category")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per task")
    ap.add_argument("--threads", type=int, default=0,
                    help="llama.cpp threads (0 = all cores, the default config)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a [harness] setting for this run, e.g. --set vote_k=2 (repeatable)")
    ap.add_argument("--json", type=Path, help="write every result (with its events) here, and "
                    "each one as it finishes to NAME.trace.jsonl")
    ap.add_argument("--keep", action="store_true", help="keep the task workspaces")
    ap.add_argument("-v", "--verbose", action="store_true", help="print why a task failed")
    args = ap.parse_args()

    tasks = load_tasks()
    if args.only:
        cats = {c.strip() for c in args.only.split(",") if c.strip()}
        tasks = [t for t in tasks if t.category in cats]
    if args.task:
        tasks = [t for t in tasks if t.id in set(args.task)]
    if args.limit:
        per: dict[str, int] = {}
        kept = []
        for t in tasks:
            per[t.category] = per.get(t.category, 0) + 1
            if per[t.category] <= args.limit:
                kept.append(t)
        tasks = kept
    if not tasks:
        print("no tasks selected", file=sys.stderr)
        return 2

    # Hermetic: default config, no user sessions; the assembled models are reused.
    os.environ.setdefault("NANOBOT_MODELS_DIR", str(models_dir()))
    tmp = Path(tempfile.mkdtemp(prefix="nb-agent-tasks-"))
    os.environ["NANOBOT_HOME"] = str(tmp / "home")
    base = tmp / "fixtures"
    for name in FIXTURES:
        build(name, base / name)
    config = make_config(args.threads, args.set)
    runs: list[dict[str, Any]] = []
    try:
        for model in args.model or DEFAULT_MODELS:
            work = tmp / f"work-{len(runs)}"
            work.mkdir()
            trace = args.json.with_suffix(".trace.jsonl") if args.json else None
            runs.append(asyncio.run(run_model(model, tasks, config, base, work, args.timeout,
                                              args.verbose, trace)))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"workspaces kept in {tmp}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "argv": sys.argv[1:]}, indent=1,
                                        ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
