"""The learning curve: the same task stream with learning off and on, same model and seed.

Usage:
    python bench/learning.py --tasks 300 --seed 7 --work /tmp/nb-learning [--model M]
                             [--families a,b] [--timeout 420] [--svg docs/learning-curve.svg]
    python bench/learning.py --report /tmp/nb-learning/results.jsonl --svg docs/learning-curve.svg

The stream (``bench/learning_tasks.py``) is ≥ 300 tasks in six families built on the fixture
workspaces and the grader of the agent task suite (``bench/agent_fixtures.py``,
``bench/agent_grade.py``). Each task runs twice, back to back, once per mode, each in a fresh
copy of its workspace through the path ``nanobot run -p PROMPT --yes`` takes (``build_runtime``
with the default config: harness, compaction, workers), so both runs see the same machine load:

- **off**: ``[learning] recipes = false, budgets = false`` (turns are still traced);
- **on**: the defaults: recipes crystallise after repeated successes and run on matching
  tasks, budgets and the 10x flag apply.

Each mode has its own Nanobot home (traces, stats, learned skills), empty at the start. With
``--mode off`` / ``--mode on`` each mode runs in a process of its own (start both: on a shared
machine two one-thread processes finish in half the time of one two-thread process); wall
seconds then depend on the load each saw, so CPU seconds per task are recorded too and are the
load-independent measure of work. The grader's verdict is the task's own check: it is given
to the learner as the outcome (``by = "check"``), as a user's 👍/👎 would be. Results go to
``WORK/results*.jsonl`` as they come (a run that stops resumes there); the table (blocks of
50, last 100) and the SVG plot (``bench/learning_plot.py``) are made from those files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.models.embedded import models_dir
from app.core.providers.stack import build_stack
from app.core.settings.config import Config, parse_config
from app.runtime.build import build_runtime
from bench.agent_grade import grade, snapshot
from bench.learning_plot import write_svg
from bench.learning_tasks import FAMILIES, StreamTask, stream, workspace

MODES = ("off", "on")


def mode_config(mode: str, threads: int, max_tokens: int = 512) -> Config:
    body = f"[local]\nthreads = {threads}\n[agent]\nmax_tokens = {max_tokens}\n"
    if mode == "off":
        body += "[learning]\nrecipes = false\nbudgets = false\n"
    return parse_config(body)


async def run_one(task: StreamTask, mode: str, provider: Any, config: Config, work: Path,
                  limit_s: float) -> dict[str, Any]:
    home = work / f"home-{mode}"
    os.environ["NANOBOT_HOME"] = str(home)
    ws = workspace(task, work / "fixtures", work / f"ws-{mode}")
    before = snapshot(ws)
    rt = build_runtime(config=config, provider=provider, workspace=str(ws), persist=False,
                       auto_approve=True)  # --yes
    session = rt.factory.new().session
    t0, c0 = time.perf_counter(), time.process_time()
    turn = asyncio.ensure_future(session.run_turn(task.task.prompt))
    done, _ = await asyncio.wait({turn}, timeout=limit_s)
    timed_out = not done
    if timed_out:
        session.cancel("benchmark timeout")
    outcome = await turn
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    answer = "" if timed_out else outcome.text
    g = grade(task.task, answer, before, ws)
    hook = rt.factory.learning
    assert hook is not None and hook in session.hooks, "the runtime gives every session learning"
    trace_id = hook.judge_last(session, g.passed, "check")
    run = hook.learner.stats.run(trace_id) if trace_id else None
    record = hook.learner.traces.find(trace_id) if trace_id else None
    calls = [c.get("name", "") for c in (record.calls if record else [])]
    learned = [ld.crystallised.name for ld in hook.learned if ld.crystallised]
    demoted = [ld.demoted.name for ld in hook.learned if ld.demoted]
    return {"n": task.n, "family": task.family, "id": task.task.id, "mode": mode,
            "prompt": task.task.prompt, "passed": g.passed, "problems": g.problems,
            "status": "timeout" if timed_out else outcome.status,
            "steps": run.steps if run else 0, "seconds": round(seconds, 2),
            "cpu_s": round(cpu, 2), "tokens": run.tokens if run else 0,
            "recipe": (record.record.get("recipe", "") if record else ""),
            "recipe_completed": bool(record and record.record.get("recipe_completed")),
            "category": run.category if run else "", "calls": calls, "answer": answer[:200],
            "learned": learned, "demoted": demoted, "load": round(os.getloadavg()[0], 2)}


def done_keys(results: Path) -> set[tuple[int, str]]:
    keys: set[tuple[int, str]] = set()
    if results.exists():
        for line in results.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            keys.add((int(r["n"]), str(r["mode"])))
    return keys


async def run_stream(tasks: list[StreamTask], args: argparse.Namespace, results: Path) -> None:
    config = mode_config("on", args.threads)
    stack = build_stack(config, args.model, discovered=[])
    provider = stack.provider
    os.environ["NANOBOT_HOME"] = str(args.work / "home-warmup")
    warm = args.work / "warmup"
    warm.mkdir(parents=True, exist_ok=True)
    rt = build_runtime(config=config, provider=provider, workspace=str(warm), persist=False)
    await rt.factory.new().session.run_turn("Say hi.")  # loads the model; not timed
    configs = {m: mode_config(m, args.threads) for m in MODES}
    done = done_keys(results)
    modes = MODES if args.mode == "both" else (args.mode,)
    for task in tasks:
        # Alternate which mode goes first, so neither always runs on a warmer cache.
        order = modes if task.n % 2 else tuple(reversed(modes))
        for mode in order:
            if (task.n, mode) in done:
                continue
            r = await run_one(task, mode, provider, configs[mode], args.work, args.timeout)
            with results.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            mark = "✓" if r["passed"] else "✗"
            extra = f" recipe={r['recipe']}" if r["recipe"] else ""
            extra += f" LEARNED {r['learned']}" if r["learned"] else ""
            extra += f" DEMOTED {r['demoted']}" if r["demoted"] else ""
            print(f"[{task.n}/{len(tasks)} {mode:3}] {mark} {r['steps']:2} steps "
                  f"{r['seconds']:6.1f}s {r['cpu_s']:5.1f}c load {r['load']:5.2f} "
                  f"{task.family:13} {' '.join(r['calls'])[:50]}{extra}", flush=True)
    await stack.aclose()


# --- the report ----------------------------------------------------------------------------------

def load_results(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Tasks finished in both modes, in stream order; ``path`` is a results file or the work
    folder holding ``results*.jsonl``."""
    by_mode: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in MODES}
    files = sorted(path.glob("results*.jsonl")) if path.is_dir() else [path]
    lines = [ln for f in files for ln in f.read_text().splitlines()]
    for line in lines:
        try:
            r = json.loads(line)
        except ValueError:
            continue
        by_mode[r["mode"]][int(r["n"])] = r
    both = sorted(set(by_mode["off"]) & set(by_mode["on"]))
    return {m: [by_mode[m][n] for n in both] for m in MODES}


def _block(rows: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    return (statistics.fmean(r["steps"] for r in rows),
            statistics.fmean(r["seconds"] for r in rows),
            100 * sum(r["passed"] for r in rows) / len(rows),
            100 * sum(bool(r["recipe_completed"]) for r in rows) / len(rows))


def report(path: Path, block: int = 50) -> str:
    res = load_results(path)
    n = len(res["off"])
    if not n:
        return "no task has finished in both modes yet"
    lines = [f"{n} tasks in both modes ({', '.join(sorted({r['family'] for r in res['off']}))})",
             "", "| tasks | off: steps | on: steps | off: s/task | on: s/task | off: success "
             "| on: success | on: recipe hits |", "|---|---|---|---|---|---|---|---|"]
    for start in range(0, n, block):
        off, on = res["off"][start:start + block], res["on"][start:start + block]
        a, b = _block(off), _block(on)
        lines.append(f"| {start + 1}-{start + len(off)} | {a[0]:.2f} | {b[0]:.2f} | {a[1]:.1f} | "
                     f"{b[1]:.1f} | {a[2]:.0f}% | {b[2]:.0f}% | {b[3]:.0f}% |")
    tail = min(100, n)
    a, b = _block(res["off"][-tail:]), _block(res["on"][-tail:])
    cpu_off = statistics.fmean(r["cpu_s"] for r in res["off"][-tail:])
    cpu_on = statistics.fmean(r["cpu_s"] for r in res["on"][-tail:])
    lines += ["", f"Last {tail} tasks: steps on/off {b[0] / a[0]:.2f}, wall seconds on/off "
                  f"{b[1] / a[1]:.2f}, CPU seconds on/off {cpu_on / cpu_off:.2f} "
                  f"({cpu_on:.1f} vs {cpu_off:.1f} per task), success {b[2]:.0f}% on vs "
                  f"{a[2]:.0f}% off, recipe hits {b[3]:.0f}%."]
    fams = sorted({r["family"] for r in res["off"]})
    lines += ["", "| family | off: steps | on: steps | off: s | on: s | off: success | "
                  "on: success | on: recipe hits |", "|---|---|---|---|---|---|---|---|"]
    for fam in fams:
        a = _block([r for r in res["off"] if r["family"] == fam])
        b = _block([r for r in res["on"] if r["family"] == fam])
        lines.append(f"| {fam} | {a[0]:.2f} | {b[0]:.2f} | {a[1]:.1f} | {b[1]:.1f} | "
                     f"{a[2]:.0f}% | {b[2]:.0f}% | {b[3]:.0f}% |")
    loads = [r["load"] for m in MODES for r in res[m]]
    lines += ["", f"1-minute load average during the run: min {min(loads):.1f}, median "
                  f"{statistics.median(loads):.1f}, max {max(loads):.1f}"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--families", default="", help="comma-separated (default: all six)")
    ap.add_argument("--model", default=None, help="model id or GGUF (default: the config's)")
    ap.add_argument("--threads", type=int, default=1,
                    help="llama.cpp threads (1: no spinning threads on a busy machine)")
    ap.add_argument("--mode", choices=("both", "off", "on"), default="both",
                    help="run one mode only (its results go to WORK/results-MODE.jsonl)")
    ap.add_argument("--timeout", type=float, default=420.0, help="seconds per task and mode")
    ap.add_argument("--work", type=Path, default=Path("/tmp/nb-learning"))
    ap.add_argument("--svg", type=Path, help="write the plot here")
    ap.add_argument("--report", type=Path, help="only print the report of this results file")
    args = ap.parse_args()
    if args.report:
        print(report(args.report))
        if args.svg:
            write_svg(load_results(args.report), args.svg)
        return 0
    fams = tuple(f for f in args.families.split(",") if f) or FAMILIES
    tasks = stream(args.tasks, args.seed, fams)
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NANOBOT_MODELS_DIR", str(models_dir()))
    results = args.work / ("results.jsonl" if args.mode == "both" else
                           f"results-{args.mode}.jsonl")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime before: {uptime}", flush=True)
    with (args.work / "uptime.log").open("a") as fh:
        fh.write(f"before {time.strftime('%F %T')}: {uptime}\n")
    asyncio.run(run_stream(tasks, args, results))
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"uptime after: {uptime}")
    with (args.work / "uptime.log").open("a") as fh:
        fh.write(f"after {time.strftime('%F %T')}: {uptime}\n")
    print(report(args.work))
    if args.svg:
        write_svg(load_results(args.work), args.svg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
