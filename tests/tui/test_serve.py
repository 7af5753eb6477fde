"""`nanobot serve`: the command itself (start, fetch the page, the guards, stop), and the app in a
real browser: headless Chromium loads the page, the app renders, a typed prompt gets a reply from
the scripted model, and Esc Esc cancels a turn.

The browser test needs Debian's chromium (`apt-get install chromium`); without it the test is
skipped and says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.browser import browser_page, chromium
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOT = ROOT / "docs" / "serve-browser.png"


@contextmanager
def running(cmd: list[str], port: int) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {proc.stdout.read()}")  # type: ignore[union-attr]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not listen within 60 s")
            time.sleep(0.1)  # polling a child process's port: there is no event to await
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


WS_HEADERS = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def test_serve_starts_serves_the_page_guards_it_and_stops(nanobot_home: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "app", "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running(cmd, port) as proc:
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 200
        assert "Nanobot" in page.text and f'ws://127.0.0.1:{port}/ws' in page.text
        # Another site's page (or a rebound DNS name) cannot reach the app.
        assert httpx.get(base + "/", headers={"Host": f"evil.example:{port}"}).status_code == 403
        foreign = httpx.get(base + "/ws", headers={**WS_HEADERS, "Origin": "http://evil.example"})
        assert foreign.status_code == 403
        assert httpx.get(base + "/static/js/textual.js").status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        out = proc.stdout.read()  # type: ignore[union-attr]
    assert f"Nanobot in the browser: http://127.0.0.1:{port}/" in out


def test_any_other_host_needs_the_token(nanobot_home: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running(cmd, port) as proc:
        assert httpx.get(base + "/").status_code == 401
        assert httpx.get(base + "/?token=wrong").status_code == 401
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
        out = proc.stdout.read()  # type: ignore[union-attr]
    token = out.split("?token=", 1)[1].split()[0]
    assert len(token) >= 24  # a random one, printed with the URL
    with running([*cmd, "--token", "s3cret-token"], port):
        with httpx.Client() as client:
            ok = client.get(base + "/?token=s3cret-token")
            assert ok.status_code == 200 and "nanobot_token" in ok.headers["set-cookie"]
            assert "httponly" in ok.headers["set-cookie"].lower()
            assert client.get(base + "/").status_code == 200  # the cookie carries it now
        assert httpx.get(base + "/").status_code == 401
    # Behind a proxy: the page's origin is the public URL (past the origin check, then the token).
    proxied = [*cmd, "--token", "t0ken-for-proxy", "--public-url", "https://nb.example.com"]
    with running(proxied, port):
        ws = {**WS_HEADERS, "Origin": "https://nb.example.com"}
        assert httpx.get(base + "/ws", headers=ws).status_code == 401
        ws["Origin"] = "https://other.example.com"
        assert httpx.get(base + "/ws", headers=ws).status_code == 403


def _events(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_the_app_in_a_real_browser(tmp_path: Path) -> None:
    binary = chromium()
    if binary is None:
        pytest.skip("no chromium on this machine (apt-get install chromium): the browser test "
                    "of nanobot serve did not run")
    from tests.serve_app import REPLY, SLOW

    port = free_port()
    events = tmp_path / "events.jsonl"
    app_cmd = shlex.join([sys.executable, str(ROOT / "tests" / "serve_app.py"), str(events)])
    code = (f"from app.cli.serve import make_server; "
            f"make_server({app_cmd!r}, host='127.0.0.1', port={port}).serve()")
    with running([sys.executable, "-c", code], port):
        async with browser_page(binary) as page:
            await page.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
            # The app renders: its welcome line and status bar arrive over the page's websocket.
            await page.wait_for_text("● idle", seconds=90)
            assert "Nanobot" in page.screen_text()
            await page.send("Runtime.evaluate",
                            expression="document.querySelector('.xterm-helper-textarea').focus()")
            await page.type_text("hello")
            await page.key("Enter", 13, "\r")
            await page.wait_for_text(REPLY)
            await page.wait_until(lambda: any(e["type"] == "TurnFinished"
                                              for e in _events(events)), 30, "TurnFinished")
            shot = await page.screenshot()
            assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
            if os.environ.get("NANOBOT_DOCS_SCREENSHOT"):  # refresh the picture in docs/
                await asyncio.to_thread(DOCS_SHOT.write_bytes, shot)
            # A second prompt streams and waits; Esc Esc cancels it.
            await page.type_text("tell me more")
            await page.key("Enter", 13, "\r")
            await page.wait_for_text(SLOW)
            await page.key("Escape", 27)
            await page.wait_for_text("Press Esc again")
            await page.key("Escape", 27)
            await page.wait_until(lambda: any(e["type"] == "TurnCancelled"
                                              for e in _events(events)), 30, "TurnCancelled")
    seen = _events(events)
    started = [e["text"] for e in seen if e["type"] == "TurnStarted"]
    assert started == ["hello", "tell me more"]
