"""Run the console script in a subprocess against a fault server, under a file-size limit or
without the capabilities that let root ignore file modes (so a read-only directory is read-only
even when the tests run as root)."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: what lets root write where modes say no.
FILE_MODE_CAPS = (1, 2, 3)
PR_CAPBSET_DROP = 24


def write_config(home: Path, base_url: str, extra: str = "") -> Path:
    """A config whose main provider is the server at ``base_url`` alone (no local fallback)."""
    cfg = home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"""
[agent]
provider = "fault"
[providers.fault]
base_url = "{base_url}"
models = ["m"]
[fallback]
main = ["fault"]
[router]
enabled = false
[resilience]
probe_local = false
base_delay = 0.01
max_delay = 0.05
first_byte_timeout_s = 2.0
idle_timeout_s = 2.0
wait_notice_s = 0.5
{extra}
""")
    return cfg


def preexec(*, fsize: int | None = None, unprivileged: bool = False) -> Callable[[], None]:
    def setup() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, as a full disk gives ENOSPC
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        if unprivileged and os.getuid() == 0:
            # Out of the bounding set, so root does not get them back when it runs python.
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in FILE_MODE_CAPS:
                if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    return setup


def child_env(home: Path) -> dict[str, str]:
    """This checkout's code, whatever the child's working directory (an editable install may
    point elsewhere)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "NANOBOT_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": path}


def nanobot(*args: str, home: Path, cwd: Path | None = None, stdin: str | None = None,
            fsize: int | None = None, unprivileged: bool = False,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = child_env(home)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, input=stdin, timeout=timeout,
                          preexec_fn=preexec(fsize=fsize, unprivileged=unprivileged))


def spawn(*args: str, home: Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    env = child_env(home)
    return subprocess.Popen([sys.executable, "-m", "app", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd or ROOT)


def until(check: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    """Poll ``check`` until it returns something true (another process's state has no event)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)  # polling another process: nothing to await
