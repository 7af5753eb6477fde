"""The refactor process on a real codebase: CPython's standard library, zero-argument super().

Usage:
    python bench/refactor_stdlib.py --prepare DIR            # copy this Python's Lib into DIR, commit
    python bench/refactor_stdlib.py --repo DIR --k 2 [--model SLOT] [--max-wall S] [--id ID]
    python bench/refactor_stdlib.py --report ID [--repo DIR] # figures of a run (also after a resume)

The run goes through the CLI (``nanobot process run refactor``) like a user's, then this script
reads the process's log and output and prints: places (steps) and how many were decided, samples
per step, red flags by kind, the compile-check pass rate of the model's edits, the audit against
the recipe's own edits, wall time, whether every changed file of the output compiles, and a few
diffs. The baseline of the figures is the recipe itself (the audit); nothing here is tuned to it.
"""

from __future__ import annotations

import argparse
import json
import os
import py_compile
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nanobot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, text=True,
                          capture_output=True, check=False)


def prepare(target: Path) -> None:
    lib = Path(sysconfig.get_paths()["stdlib"])
    if target.exists():
        raise SystemExit(f"{target} exists")
    shutil.copytree(lib, target, ignore=shutil.ignore_patterns(
        "site-packages", "__pycache__", "config-*"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
    for cmd in (["init", "-q"], ["add", "-A"],
                ["commit", "-qm", f"CPython {sys.version.split()[0]} Lib, copied from {lib}"]):
        subprocess.run(["git", "-C", str(target), *cmd], check=True, env=env)
    files = subprocess.run(["git", "-C", str(target), "ls-files"], check=True, text=True,
                           capture_output=True).stdout.split()
    print(f"{target}: {len(files)} files, {sum(f.endswith('.py') for f in files)} Python files")


def report(pid: str, repo: Path | None) -> None:
    from app.core.process.store import ProcessStore

    store = ProcessStore.open(pid)
    spec = store.load_spec()
    log = [json.loads(line) for line in store.log_path.read_text().splitlines()]
    samples = [r for r in log if r["r"] in ("s", "f")]
    decided = [r for r in log if r["r"] == "d"]
    flags: dict[str, int] = {}
    compile_fail = 0
    for r in samples:
        if r["r"] == "f":
            kind = r["flag"]
            if kind == "invalid":
                kind = ("invalid: does not compile" if r["why"].startswith("does not compile")
                        else "invalid: no change" if "changes nothing" in r["why"]
                        else "invalid: other")
            flags[kind] = flags.get(kind, 0) + 1
            compile_fail += r["why"].startswith("does not compile")
    valid = sum(r["r"] == "s" for r in samples)
    checked = valid + compile_fail
    cp = store.read_checkpoint()
    counters = cp.counters if cp else {}
    summary = json.loads((store.dir / "output" / "summary.json").read_text())
    audit = nanobot("process", "audit", pid)
    print(f"process {pid}: model {spec.sampler.get('model') or spec.sampler.get('label')}, "
          f"k={spec.k}, status {cp.status if cp else '?'} ({cp.reason if cp else ''})")
    print(f"  codebase: {summary['files_scanned']:,} files scanned, {summary['places']} places, "
          f"skipped {summary['skipped']}")
    print(f"  steps decided: {len(decided)} of {summary['places']} "
          f"({sum(1 for d in decided if d.get('esc'))} by the escalation model); files changed "
          f"{summary['files_changed']}")
    n = len(decided) or 1
    print(f"  samples: {len(samples):,} ({len(samples) / n:.2f} per decided step); red flags "
          f"{flags}; decided by the first k samples in "
          f"{sum(1 for d in decided if d['n'] == spec.k)}/{len(decided)} steps")
    if checked:
        print(f"  compile check: {valid}/{checked} edits that reached the check compiled "
              f"({100 * valid / checked:.1f}%)")
    active = float(counters.get("active_s", 0.0))
    print(f"  wall (active) {active:,.0f} s = {active / n:.1f} s per decided step, "
          f"{active / max(len(samples), 1):.1f} s per sample; tokens {counters.get('tokens', 0):,}")
    print("  audit: " + audit.stdout.splitlines()[0].strip())
    # The baseline without votes, from the same run: was each step's first (greedy) sample right?
    from app.core.process.loader import task_for_spec
    from app.core.process.oracle import oracle_for

    task = task_for_spec(spec)
    solver = oracle_for(task)
    first = {r["step"]: r.get("key") for r in samples if r["i"] == 0}
    greedy = sum(first.get(d["step"]) == task.key(solver.action_at(task, d["step"]))
                 for d in decided)
    voted = sum(d["key"] == task.key(solver.action_at(task, d["step"])) for d in decided)
    print(f"  right (same tokens as the recipe's edit): voted {voted}/{len(decided)}, the first "
          f"(greedy) sample alone {greedy}/{len(decided)}")
    if repo is not None and summary.get("branch"):
        bad = _compile_branch(repo, summary["branch"], summary["base"])
        print(f"  output branch {summary['branch']}: changed files that compile: {bad}")
    patches = sorted((store.dir / "output" / "patches").glob("*.patch"))
    print(f"  patches: {len(patches)} in {store.dir / 'output' / 'patches'}; the first three:")
    for p in patches[:3]:
        print("    " + p.read_text().replace("\n", "\n    ").rstrip())


def _compile_branch(repo: Path, branch: str, base: str) -> str:
    changed = subprocess.run(["git", "-C", str(repo), "diff", "--name-only", base, branch],
                             check=True, text=True, capture_output=True).stdout.split()
    ok = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in changed:
            data = subprocess.run(["git", "-C", str(repo), "show", f"{branch}:{name}"],
                                  check=True, capture_output=True).stdout
            target = Path(tmp) / "f.py"
            target.write_bytes(data)
            try:
                py_compile.compile(str(target), doraise=True)
                ok += 1
            except py_compile.PyCompileError:
                pass
    return f"{ok}/{len(changed)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--prepare", type=Path)
    ap.add_argument("--repo", type=Path)
    ap.add_argument("--report")
    ap.add_argument("--model", default="local")
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--max-wall", type=float)
    ap.add_argument("--escalate", help="model for steps the first one leaves undecided")
    ap.add_argument("--max-rounds", type=int, default=10)
    ap.add_argument("--exclude", default="",
                    help="globs of files to leave alone, e.g. the tests: "
                         "test/**,**/test/**,**/tests/**,**/idle_test/**,**/test_*.py")
    ap.add_argument("--id")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.prepare:
        prepare(args.prepare)
        return 0
    if args.report:
        report(args.report, args.repo)
        return 0
    if not args.repo:
        ap.error("--repo (or --prepare / --report)")
    pid = args.id or f"refactor-bench-{time.strftime('%H%M%S')}"
    cmd = ["process", "run", "refactor", "--param", f"repo={args.repo}", "--model", args.model,
           "--k", str(args.k), "--max-rounds", str(args.max_rounds), "--id", pid]
    if args.exclude:
        cmd += ["--param", f"exclude={args.exclude}"]
    if args.max_wall:
        cmd += ["--max-wall", str(args.max_wall)]
    if args.escalate:
        cmd += ["--escalate", args.escalate]
    print("nanobot " + " ".join(cmd), flush=True)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app", *cmd], cwd=ROOT, text=True, check=False)
    print(f"exit {proc.returncode} after {time.monotonic() - started:,.0f} s wall", flush=True)
    report(pid, args.repo)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
