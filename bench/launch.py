"""Launch to a usable prompt, in a real terminal (tmux 100x40), against a minimal Textual app.

    python -m bench.launch              # 3 runs each
    python -m bench.launch --runs 5

"Usable": the prompt is on screen and a key typed into it shows up. The clock starts when tmux
is asked to start the program; "drawn" is when the prompt's placeholder is in the pane, "typing
shows" when a key sent then has replaced the placeholder (the pane is polled every 5 ms).
Nanobot runs its real command (``nanobot``: default config, the embedded model) with a home of
its own that one untimed launch has set up first (the model file is assembled on a first run);
the baseline is a Textual app with an Input and a Footer, measured in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL = """
from textual.app import App, ComposeResult
from textual.widgets import Footer, Input

class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(placeholder="Ask Nanobot")
        yield Footer()

Minimal().run()
"""

PROBE = "q"
_RUNS = itertools.count()  # typed once the prompt is drawn; seen echoed = usable


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def launch(command: str, marker: str, env: dict[str, str], timeout: float = 60.0
           ) -> tuple[float, float]:
    """Seconds to the first frame showing ``marker``, and to the typed key showing up."""
    name = f"nb-launch-{os.getpid()}-{next(_RUNS)}"
    t0 = time.perf_counter()
    started = subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "40",
                              "-e", f"NANOBOT_HOME={env['NANOBOT_HOME']}", command],
                             capture_output=True, text=True, check=False)
    if started.returncode:
        raise RuntimeError(f"tmux could not start {command!r}: {started.stderr.strip()}")
    drawn = typed = 0.0
    try:
        while time.perf_counter() - t0 < timeout:
            pane = tmux("capture-pane", "-p", "-t", name)
            if not drawn and marker in pane:
                drawn = time.perf_counter() - t0
                tmux("send-keys", "-t", name, PROBE)
            elif drawn and marker not in pane:  # the key replaced the placeholder: typed
                typed = time.perf_counter() - t0
                break
            time.sleep(0.005)
    finally:
        tmux("kill-session", "-t", name)
    if not typed:
        raise RuntimeError(f"{command!r}: no usable prompt within {timeout:.0f} s")
    return drawn, typed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("bench/launch needs tmux")
    python = sys.executable
    nanobot = str(Path(python).with_name("nanobot"))
    # One session lives through the whole run: when the last one ends, the tmux server exits, and
    # the next start can race with it shutting down.
    keeper = f"nb-launch-keep-{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", keeper, "sleep 3600"], check=True)
    try:
        run_all(args, python, nanobot)
    finally:
        tmux("kill-session", "-t", keeper)


def run_all(args: argparse.Namespace, python: str, nanobot: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "minimal.py"
        script.write_text(MINIMAL)
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"bench/launch: {args.runs} runs each, tmux 100x40; load average {load}")
        results: dict[str, list[tuple[float, float]]] = {"minimal": [], "nanobot": []}
        home = Path(tmp) / "home"
        home.mkdir()
        env = {"NANOBOT_HOME": str(home)}
        launch(f"cd {tmp} && {nanobot}", "Ask Nanobot", env, timeout=300)  # first run: setup
        for _ in range(args.runs):  # alternate, so load drifts hit both alike
            results["minimal"].append(launch(f"{python} {script}", "Ask Nanobot", env))
            results["nanobot"].append(launch(f"cd {tmp} && {nanobot}", "Ask Nanobot", env))
        for name, runs in results.items():
            drawn = [d for d, _ in runs]
            typed = [t for _, t in runs]
            print(f"  {name:8} prompt drawn {' '.join(f'{d:.2f}' for d in drawn)} s; "
                  f"typing shows {' '.join(f'{t:.2f}' for t in typed)} s "
                  f"(median {statistics.median(typed):.2f} s)")
        base = statistics.median(t for _, t in results["minimal"])
        ours = statistics.median(t for _, t in results["nanobot"])
        print(f"  ratio nanobot/minimal {ours / base:.2f}; goal: nanobot <= 0.5 s")
        print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
