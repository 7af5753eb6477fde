"""A declarative job on a real model: 1,000 function signatures from the standard library, one
question each ("how many parameters without a default come before any *?"), every answer voted.

Usage:
    python bench/job_signatures.py --prepare DIR       # DIR/functions.jsonl (1,000 lines) + job.toml
    python bench/job_signatures.py --dir DIR --k 2 [--model SLOT] [--max-wall S] [--id ID]
    python bench/job_signatures.py --report ID

The expected count of each item comes from Python's own parser, so the audit scores every decided
answer; the figures are items answered, samples per item, red flags, wall time, and the share of
decided answers the audit finds right, next to the share of first (greedy) samples that were right:
the baseline without votes, measured in the same run.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

JOB = '''\
name = "param-count"
description = "stdlib signatures: parameters without a default before any *"
[input]
jsonl = "functions.jsonl"
id = "where"
expected = "count"
[prompt]
system = "You answer one question about a Python function signature. Reply with one line: count = N"
template = """How many parameters without a default value come before any * or *args in this \
signature? Count self and cls too.
{signature}
Reply with one line: count = N"""
[answer]
regex = 'count = (\\d+)'
type = "int"
max_tokens = 8
'''


def prepare(target: Path, items: int, seed: int) -> None:
    lib = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(lib.rglob("*.py")):
        if "site-packages" in path.parts or "test" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        lines = text.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or node.lineno != node.body[0].lineno - 1:
                continue
            line = lines[node.lineno - 1].strip()
            if not line.endswith(":") or len(line) > 110 or node.decorator_list:
                continue
            a = node.args
            positional = a.posonlyargs + a.args
            count = len(positional) - len(a.defaults)
            found.append({"where": f"{path.relative_to(lib)}:{node.lineno}",
                          "signature": line[:-1], "count": count})
    rng = random.Random(seed)
    chosen = sorted(rng.sample(found, items), key=lambda f: f["where"])
    target.mkdir(parents=True, exist_ok=True)
    (target / "functions.jsonl").write_text("".join(json.dumps(f) + "\n" for f in chosen))
    (target / "job.toml").write_text(JOB)
    print(f"{target}: {len(chosen)} of {len(found)} one-line signatures; counts "
          f"{sorted({f['count'] for f in chosen})}")


def report(pid: str) -> None:
    sys.path.insert(0, str(ROOT))
    from app.core.process.loader import task_for_spec
    from app.core.process.store import ProcessStore

    store = ProcessStore.open(pid)
    spec = store.load_spec()
    task = task_for_spec(spec)
    log = [json.loads(line) for line in store.log_path.read_text().splitlines()]
    samples = [r for r in log if r["r"] in ("s", "f")]
    decided = [r for r in log if r["r"] == "d"]
    flags: dict[str, int] = {}
    for r in samples:
        if r["r"] == "f":
            flags[r["flag"]] = flags.get(r["flag"], 0) + 1
    expected = [json.dumps(task.items[i]["count"]) for i in range(len(task.items))]
    first = {}
    for r in samples:
        if r["i"] == 0:
            first[r["step"]] = r.get("key") if r["r"] == "s" else None
    greedy_right = sum(first.get(d["step"]) == expected[d["step"]] for d in decided)
    voted_right = sum(d["key"] == expected[d["step"]] for d in decided)
    cp = store.read_checkpoint()
    active = float(cp.counters.get("active_s", 0.0)) if cp else 0.0
    n = len(decided) or 1
    print(f"process {pid}: model {spec.sampler.get('model')}, k={spec.k}, "
          f"status {cp.status if cp else '?'} ({cp.reason if cp else ''})")
    print(f"  items answered {len(decided)} of {len(task.items)}; samples {len(samples):,} "
          f"({len(samples) / n:.2f} per item); red flags {flags}")
    print(f"  right against the input's answers: voted {voted_right}/{len(decided)} "
          f"({100 * voted_right / n:.1f}%), first (greedy) sample alone {greedy_right}/"
          f"{len(decided)} ({100 * greedy_right / n:.1f}%)")
    print(f"  wall (active) {active:,.0f} s = {active / n:.1f} s per item, "
          f"{active / max(len(samples), 1):.2f} s per sample")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--prepare", type=Path)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--report")
    ap.add_argument("--model", default="local")
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--max-wall", type=float)
    ap.add_argument("--id")
    args = ap.parse_args()
    if args.prepare:
        prepare(args.prepare, args.items, args.seed)
        return 0
    if args.report:
        report(args.report)
        return 0
    if not args.dir:
        ap.error("--dir (or --prepare / --report)")
    pid = args.id or f"job-bench-{time.strftime('%H%M%S')}"
    cmd = ["process", "run", "--task-file", str(args.dir / "job.toml"), "--model", args.model,
           "--k", str(args.k), "--id", pid]
    if args.max_wall:
        cmd += ["--max-wall", str(args.max_wall)]
    print("nanobot " + " ".join(cmd), flush=True)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app", *cmd], cwd=ROOT, text=True, check=False)
    print(f"exit {proc.returncode} after {time.monotonic() - started:,.0f} s wall", flush=True)
    report(pid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
