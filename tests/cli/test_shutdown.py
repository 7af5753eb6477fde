"""SIGTERM and SIGHUP end Nanobot the way Ctrl+C does, and nothing it started outlives it.

Real processes throughout: ``nanobot run -p`` running an exec tree (also killed with SIGKILL: the
exec supervisor's parent-death signal sweeps it), the full-screen app on a pty with a managed
server (a fake ``llama-server`` on PATH) and an exec tree, and a managed server whose parent is
killed with SIGKILL (only the kernel's parent-death signal can stop it then).
Every check waits for the processes to exit; none sleeps a fixed time.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psutil
import pytest

from tests.cli_env import ROOT, spawn, until, write_config
from tests.fault_server import answer, fault_server, tool_call
from tests.gguf_fixture import write_gguf

# Durations no other program on a shared machine uses, so the tests find only their own.
MARKS = (["sleep", "31415"], ["sleep", "31416"])
SLEEPS = "sleep 31415 & sleep 31416 & wait"


def sleepers() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[:2] in MARKS]


def assert_all_gone(procs: list[psutil.Process]) -> None:
    _, alive = psutil.wait_procs(procs, timeout=15)
    assert not alive, f"still running: {[p.info for p in alive]}"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_run_stops_its_exec_tree_on_a_stop_signal(sig: int, nanobot_home: Path,
                                                   tmp_path: Path) -> None:
    # SIGKILL leaves no handler to run: the exec supervisor's parent-death signal sweeps it.
    assert not sleepers(), "sleeps left over from an earlier run"
    with fault_server(tool_call("exec", command=SLEEPS), answer) as server:
        write_config(nanobot_home, server.base_url)
        proc = spawn("run", "-p", "run the sleeps", "--yes", home=nanobot_home, cwd=tmp_path)
        try:
            tree = until(lambda: len(sleepers()) == 2 and sleepers(), what="the exec tree")
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig), err
    assert "Traceback" not in err
    assert_all_gone(tree)  # type: ignore[arg-type]


FAKE_SERVER = textwrap.dedent("""\
    import http.server, sys
    port = int(sys.argv[sys.argv.index("--port") + 1])
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.send_header("content-length", "2"); self.end_headers()
            self.wfile.write(b"{}")
        def log_message(self, *a): pass
    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
""")


def fake_llama_server(bin_dir: Path) -> None:
    bin_dir.mkdir()
    script = bin_dir / "llama-server"
    script.write_text(f"#!{sys.executable}\n# fake-llama-server\n{FAKE_SERVER}")
    script.chmod(0o755)


def server_procs(tmp_path: Path) -> list[psutil.Process]:
    """The fake servers this test started (its own script under ``tmp_path``)."""
    script = str(tmp_path / "bin" / "llama-server")
    return [p for p in psutil.process_iter(["cmdline"]) if script in (p.info["cmdline"] or [])[:2]]


def start_tui(home: Path, tmp_path: Path, base_url: str) -> tuple[subprocess.Popen[bytes], int]:
    bin_dir = tmp_path / "bin"
    fake_llama_server(bin_dir)
    model = write_gguf(tmp_path / "tiny.gguf")
    write_config(home, base_url, extra=f"""
[local]
server_binary = "llama-server"
[local.main]
path = "{model}"
serve = "server"
[permissions]
exec_allow = ["sleep", "wait"]
tools = {{ exec = "allow" }}
""")
    master, slave = pty.openpty()
    env = {**os.environ, "NANOBOT_HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "app", "--workspace", str(tmp_path)],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True)
    os.close(slave)

    def drain() -> None:  # the app blocks if nobody reads its screen
        with open(home / "screen.log", "ab") as log:
            try:
                while data := os.read(master, 65536):
                    log.write(data)
            except OSError:
                pass

    threading.Thread(target=drain, daemon=True).start()
    return proc, master


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_app_stops_servers_and_exec_trees_on_a_stop_signal(sig: int, nanobot_home: Path,
                                                               tmp_path: Path) -> None:
    assert not sleepers()
    with fault_server(tool_call("exec", command=SLEEPS), answer) as server:
        proc, master = start_tui(nanobot_home, tmp_path, server.base_url)
        try:
            servers = until(lambda: server_procs(tmp_path), what="the managed server")
            os.write(master, b"run the sleeps")
            os.write(master, b"\r")
            tree = until(lambda: len(sleepers()) == 2 and sleepers(), what="the exec tree")
            proc.send_signal(sig)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
    assert proc.returncode == 128 + sig
    assert_all_gone([*servers, *tree])  # type: ignore[list-item]


def test_a_managed_server_dies_with_a_killed_app(nanobot_home: Path, tmp_path: Path) -> None:
    with fault_server(answer) as server:
        proc, master = start_tui(nanobot_home, tmp_path, server.base_url)
        try:
            servers = until(lambda: server_procs(tmp_path), what="the managed server")
            proc.kill()  # SIGKILL: no handler, no atexit; only the kernel can help now
            proc.wait(timeout=30)
        finally:
            os.close(master)
    assert_all_gone(servers)  # type: ignore[arg-type]
