"""Real servers on 127.0.0.1 for tests: llama_cpp.server with the bundled model, and a tiny
scripted SSE server for protocol corner cases a real model will not produce on demand."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(model: Path, *, n_ctx: int = 2048, port: int | None = None,
                 log: Path | None = None) -> Iterator[str]:
    """Start ``python -m llama_cpp.server``; yield its base URL; stop its process group."""
    port = port or free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--n_threads", "2",
         "--n_ctx", str(n_ctx), "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/models", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not become ready in 120 s")
            time.sleep(0.2)  # polling a child process's port: there is no event to await
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


Responder = Callable[[dict[str, object]], tuple[int, dict[str, str], list[str]]]


@contextmanager
def sse_server(responder: Responder) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """Serve ``POST /v1/chat/completions`` from ``responder(body) -> (status, headers, lines)``."""
    seen: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            body["_headers"] = dict(self.headers)
            seen.append(body)
            status, headers, lines = responder(body)
            self.send_response(status)
            self.send_header("content-type", "text/event-stream")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            for line in lines:
                self.wfile.write((line + "\n\n").encode())
                self.wfile.flush()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def sse(delta: dict[str, object], finish: str | None = None) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta,
                                               "finish_reason": finish}]})


MCP_SERVER = Path(__file__).resolve().parent / "mcp_server.py"


@contextmanager
def mcp_http_server(log: Path | None = None) -> Iterator[str]:
    """The test MCP server (tests/mcp_server.py) on streamable HTTP; yields its endpoint URL."""
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, str(MCP_SERVER), "--http", "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the MCP test server exited with {proc.returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the MCP test server did not listen within 60 s")
            time.sleep(0.1)  # polling a child process's port: there is no event to await
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]
