"""The step engine at full size: Towers of Hanoi with a simulated model, then kill -9 and resume.

Usage:
    python bench/hanoi_sim.py                      # 20 disks (1,048,575 steps), p = 0.99
    python bench/hanoi_sim.py --disks 14 --kills 3 # a short version
    python bench/hanoi_sim.py --disks 16 --correlated 0.001

Part 1 runs the engine in this process with the simulated sampler (errors spread over plausible
wrong moves, a share of malformed and runaway replies, optionally correlated hard steps) and k from
MAKER's formula for the given p and t. It prints the total time, samples per step, the engine's own
time per step (everything but the simulated model), peak memory along the run, and the post-hoc
audit against the solver.

Part 2 runs the same process through the CLI in a child program, kills it with SIGKILL at random
moments (--kills times), resumes it each time, and checks that the final result (the hash chain
over every decision, and the final state) is identical to part 1's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.agent.cancel import CancelToken  # noqa: E402 - after the path set-up above
from app.core.agent.events import Event  # noqa: E402
from app.core.process import kmath  # noqa: E402
from app.core.process.audit import audit  # noqa: E402
from app.core.process.engine import ProcessRunner  # noqa: E402
from app.core.process.events import ProcessProgress  # noqa: E402
from app.core.process.samplers import build_sampler  # noqa: E402
from app.core.process.spec import ProcessSpec  # noqa: E402
from app.core.process.store import ProcessStore  # noqa: E402
from app.core.process.task import make_task  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def sim_conf(args: argparse.Namespace) -> dict[str, object]:
    return {"kind": "sim", "p": args.p, "malformed": args.malformed,
            "correlated": args.correlated, "delay_ms": 0.0}


def part1(args: argparse.Namespace, root: Path, k: int) -> dict[str, object]:
    task = make_task("hanoi", {"disks": args.disks, "format": "full"})
    spec = ProcessSpec(id="bench-main", task="hanoi", params=dict(task.params), k=k,
                       sampler=sim_conf(args), token_cap=task.default_token_cap, seed=args.seed,
                       checkpoint_every=args.checkpoint_every, checkpoint_seconds=2.0)
    store = ProcessStore.create(spec, root)
    sampler = build_sampler(spec.sampler, task, seed=spec.seed)
    memory: list[tuple[int, float]] = [(0, rss_mb())]
    total = task.total_steps or 1
    marks = iter([total * i // 10 for i in range(1, 11)])
    mark = next(marks)

    def listen(ev: Event) -> None:
        nonlocal mark
        if isinstance(ev, ProcessProgress) and ev.step >= mark:
            memory.append((ev.step, rss_mb()))
            print(f"  step {ev.step:>9,} / {total:,}  {ev.steps_per_s:8,.0f} steps/s  "
                  f"rss {memory[-1][1]:6.1f} MB", flush=True)
            mark = next(marks, total + 1)

    runner = ProcessRunner(store, spec, task, [sampler], listener=listen)
    t0 = time.perf_counter()
    outcome = asyncio.run(runner.run(CancelToken()))
    wall = time.perf_counter() - t0
    t1 = time.perf_counter()
    report = audit(store, task)
    audit_s = time.perf_counter() - t1
    c = outcome.counters
    steps = max(outcome.step, 1)
    return {"status": outcome.status, "steps": outcome.step, "wall_s": wall,
            "samples": c["samples"], "samples_per_step": c["samples"] / steps,
            "flagged": c["flagged"], "flags": c["flags"], "escalations": c["escalations"],
            "max_samples_step": c["max_samples_step"],
            "engine_us_per_step": 1e6 * runner.engine_s / steps,
            "sampler_us_per_step": 1e6 * runner.sampler_s / steps,
            "total_us_per_step": 1e6 * wall / steps, "chain": outcome.chain,
            "final_state": outcome.state, "audit_errors": report.errors,
            "audit_ok": report.ok(task.total_steps), "audit_s": audit_s,
            "audit_chain": report.chain, "memory": memory,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "log_bytes": store.log_path.stat().st_size}


def _cli(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "NANOBOT_HOME": str(home)})


def _started(proc: subprocess.Popen[str]) -> subprocess.Popen[str]:
    """Wait for the child's first line ("process ..." / "resuming ..."): it is past start-up."""
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc


def part2(args: argparse.Namespace, home: Path, k: int, expected_s: float) -> dict[str, object]:
    rng = random.Random(args.seed + 1)
    run = ["process", "run", "hanoi", "--disks", str(args.disks), "--sampler", "sim",
           "--sim-p", str(args.p), "--sim-malformed", str(args.malformed),
           "--sim-correlated", str(args.correlated), "--k", str(k), "--seed", str(args.seed),
           "--checkpoint-every", str(args.checkpoint_every), "--id", "bench-kill"]
    kills: list[dict[str, object]] = []
    store = ProcessStore(home / "data" / "processes" / "bench-kill")
    proc = _started(_cli(home, *run))
    for n in range(args.kills):
        # Somewhere in the next stretch of the remaining run, not tied to checkpoints.
        remaining = expected_s * (1 - (n / (args.kills + 1)))
        delay = rng.uniform(0.15, 0.6) * remaining / (args.kills - n)
        try:
            proc.wait(timeout=delay)
            kills.append({"at_s": delay, "note": "finished before the kill"})
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        cp = store.peek()
        kills.append({"at_s": round(delay, 2), "checkpoint_step": cp.step if cp else 0,
                      "log_bytes": store.log_path.stat().st_size})
        print(f"  kill -9 #{n + 1} after {delay:.1f}s (last checkpoint at step "
              f"{kills[-1]['checkpoint_step']:,})", flush=True)
        proc = _started(_cli(home, "process", "resume", "bench-kill"))
    out, _ = proc.communicate()
    chain = ""
    for line in out.splitlines():
        if "result chain" in line:
            chain = line.split("result chain ")[1].split()[0]
    result = store.read_result() or {}
    return {"kills": kills, "exit": proc.returncode, "chain16": chain,
            "final_state": result.get("final_state"), "full_chain": result.get("chain")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--disks", type=int, default=20)
    ap.add_argument("--p", type=float, default=0.99, help="simulated per-sample success rate")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--malformed", type=float, default=0.15, help="share of errors that are malformed")
    ap.add_argument("--correlated", type=float, default=0.0, help="share of hard steps")
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=5000)
    ap.add_argument("--keep", action="store_true", help="keep the process files")
    args = ap.parse_args()

    steps = 2 ** args.disks - 1
    k = kmath.k_min(args.p, steps, args.target)
    home = Path(tempfile.mkdtemp(prefix="nb-hanoi-sim-"))
    os.environ["NANOBOT_HOME"] = str(home)
    print(f"Hanoi {args.disks} disks = {steps:,} steps; simulated p = {args.p}, t = {args.target} "
          f"-> k = {k} (predicted whole-run success {kmath.task_success(args.p, k, steps):.4f}, "
          f"{kmath.expected_votes(args.p, k):.2f} votes/step)")
    print("part 1: the engine in this process")
    one = part1(args, home / "data" / "processes", k)
    mem = [m for _, m in one["memory"]]  # type: ignore[attr-defined]
    shown = {key: v for key, v in one.items() if key not in ("final_state", "memory")}
    print(json.dumps(shown))
    print("rss MB at each tenth of the run: " + ", ".join(f"{m:.1f}" for m in mem))
    print(f"RESULT engine: {one['steps']:,} steps in {one['wall_s']:.1f} s "
          f"({one['total_us_per_step']:.0f} us/step total, engine {one['engine_us_per_step']:.0f} "
          f"us/step, simulated model {one['sampler_us_per_step']:.0f} us/step), "
          f"{one['samples_per_step']:.3f} samples/step, audit errors {one['audit_errors']}, "
          f"rss {min(mem):.0f}-{max(mem):.0f} MB")
    if args.kills:
        print(f"part 2: kill -9 x{args.kills} through the CLI, then resume")
        two = part2(args, home, k, one["wall_s"] * 1.3)  # type: ignore[operator]
        same = two["full_chain"] == one["chain"] and two["final_state"] == one["final_state"]
        print(json.dumps({key: v for key, v in two.items() if key != "final_state"}))
        print(f"RESULT kill/resume: {len(two['kills'])} kill(s), exit {two['exit']}, final "  # type: ignore[arg-type]
              f"result {'IDENTICAL' if same else 'DIFFERENT'} to part 1")
    if args.keep:
        print(f"files kept in {home}")
    else:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
