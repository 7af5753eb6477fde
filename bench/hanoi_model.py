"""The process engine on a real local model: calibrate each Hanoi format, run the ones that are go.

Usage:
    python bench/hanoi_model.py                                  # default model, 10 disks
    python bench/hanoi_model.py --samples 200 --formats guided,move,full
    python bench/hanoi_model.py --model qwen2.5-coder-1.5b --run-disks 10 --max-wall 1800

For each format it runs `nanobot process calibrate` (single samples on random reachable 10-disk
states, scored by the solver) and prints p, its lower bounds, the valid-parse rate, the length
distribution, k_min and the projection. Every format whose lower bound on p is above 0.5 is then run
with voting (`nanobot process run`, k from the calibration) on --run-disks disks within --max-wall
seconds, and audited. The commands are printed as they run, so each step can be repeated by hand.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def nanobot(env: dict[str, str], *args: str) -> tuple[int, str]:
    print(f"$ nanobot {shlex.join(args)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True)
    print(proc.stdout.rstrip())
    if proc.returncode not in (0, 3):
        print(proc.stderr.rstrip()[-2000:])
    print(f"  (exit {proc.returncode}, {time.perf_counter() - t0:.0f} s)", flush=True)
    return proc.returncode, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="local", help="in-process model (local, a model id, a .gguf)")
    ap.add_argument("--formats", default="guided,move,full")
    ap.add_argument("--disks", type=int, default=10, help="disks of the calibration states")
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--temperature", type=float, default=0.1)
    ap.add_argument("--run-disks", type=int, default=10)
    ap.add_argument("--max-wall", type=float, default=1800.0)
    ap.add_argument("--home", help="NANOBOT_HOME to use (default: a fresh temporary one)")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from app.core.models.embedded import models_dir

    home = args.home or tempfile.mkdtemp(prefix="nb-hanoi-model-")
    # The bundled model stays where it was assembled; only the process files go to the new home.
    env = {**os.environ, "NANOBOT_HOME": home,
           "NANOBOT_MODELS_DIR": os.environ.get("NANOBOT_MODELS_DIR", str(models_dir()))}
    print(f"NANOBOT_HOME={home}")
    go: list[str] = []
    for fmt in args.formats.split(","):
        code, _ = nanobot(env, "process", "calibrate", "hanoi", "--disks", str(args.disks),
                          "--format", fmt, "--samples", str(args.samples), "--model", args.model,
                          "--temperature", str(args.temperature),
                          "--steps", str(2 ** args.run_disks - 1))
        if code == 0:
            go.append(fmt)
    print(f"RESULT calibration: go for {go or 'no format'}")
    for fmt in go:
        pid = f"model-{fmt}-{args.run_disks}"
        code, _ = nanobot(env, "process", "run", "hanoi", "--disks", str(args.run_disks),
                          "--format", fmt, "--model", args.model, "--id", pid,
                          "--max-wall", str(args.max_wall))
        nanobot(env, "process", "audit", pid)
        print(f"RESULT run {fmt}: exit {code}")


if __name__ == "__main__":
    main()
