"""web_fetch and web_search against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.html_text import html_to_text
from app.core.tools.web import WebFetch, WebSearch
from app.core.tools.web_search import backend_from_config

# The test server is on loopback, which web_fetch refuses unless the config names the host.
LOCAL = ("127.0.0.1",)

PAGE = """<!doctype html><html><head><title>Weather  station</title>
<style>body { color: red }</style><script>var secret = 1;</script></head>
<body><nav>Home</nav><h1>Readings</h1><p>Temperature is <b>14 C</b> today.</p>
<ul><li>north</li><li>south</li></ul><a href="/docs">the docs</a>
<pre>  x = 1
  y = 2</pre></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/page":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path.startswith("/hop/"):
            n = int(url.path.rsplit("/", 1)[1])
            self.send_response(302)
            self.send_header("Location", "/page" if n == 0 else f"/hop/{n - 1}")
            self.end_headers()
        elif url.path == "/big":
            self._send(200, b"a" * 50_000, "text/plain")
        elif url.path == "/image":
            self._send(200, b"\x89PNG\r\n" + b"\x00" * 100, "image/png")
        elif url.path == "/json":
            self._send(200, b'{"a": [1, 2]}', "application/json")
        elif url.path == "/search":
            q = parse_qs(url.query)
            results = [{"title": f"About {q['q'][0]}", "url": "http://example.org/1",
                        "content": "first hit"},
                       {"title": "Second", "url": "http://example.org/2", "content": ""}]
            self._send(200, json.dumps({"results": results}).encode(), "application/json")
        else:
            self._send(404, b"<html><body><p>Nothing here</p></body></html>", "text/html")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace=tmp_path, cancel=CancelToken())


def test_html_to_text_keeps_structure_and_drops_scripts() -> None:
    title, text = html_to_text(PAGE, "http://h/x")
    assert title == "Weather station"
    assert "# Readings" in text and "Temperature is 14 C today." in text
    assert "- north\n- south" in text and "the docs (http://h/docs)" in text
    assert "  x = 1\n  y = 2" in text
    assert "secret" not in text and "color" not in text


async def test_fetch_html_as_text(server: str, ctx: ToolContext) -> None:
    result = await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/page"}, ctx)
    assert not result.is_error
    assert "Status: 200" in result.content and "Title: Weather station" in result.content
    assert "Temperature is 14 C today." in result.content and "<p>" not in result.content


async def test_five_redirects_are_followed_six_are_not(server: str, ctx: ToolContext) -> None:
    ok = await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/hop/4"}, ctx)  # 5 redirects
    assert "Temperature" in ok.content and "redirected from" in ok.content
    with pytest.raises(ToolError, match="more than 5 times"):
        await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/hop/5"}, ctx)  # 6 redirects


async def test_size_cap_binary_json_and_errors(server: str, ctx: ToolContext) -> None:
    capped = await WebFetch(private_hosts=LOCAL, max_bytes=10_000).run({"url": f"{server}/big"}, ctx)
    assert capped.content.count("a") >= 10_000 and "capped at 10,000 bytes" in capped.content
    image = await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/image"}, ctx)
    assert "[binary content (image/png" in image.content
    data = await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/json"}, ctx)
    assert '"a": [\n    1,' in data.content
    missing = await WebFetch(private_hosts=LOCAL).run({"url": f"{server}/nope"}, ctx)
    assert missing.is_error and "Status: 404" in missing.content
    with pytest.raises(ToolError, match="http:// or https://"):
        await WebFetch(private_hosts=LOCAL).run({"url": "file:///etc/passwd"}, ctx)
    with pytest.raises(ToolError, match="could not fetch"):
        await WebFetch(private_hosts=LOCAL, timeout=5).run({"url": "http://127.0.0.1:9/"}, ctx)


async def test_web_search_without_backend_says_so(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="web search is not configured"):
        await WebSearch(None).run({"query": "python"}, ctx)


async def test_web_search_with_a_searxng_backend(server: str, ctx: ToolContext) -> None:
    backend = backend_from_config("searxng", base_url=server)
    result = await WebSearch(backend).run({"query": "llama", "count": 1}, ctx)
    assert result.content == "Results for: llama\n1. About llama\n   http://example.org/1\n   first hit"
    assert backend_from_config("") is None


async def test_brave_backend_needs_its_key(ctx: ToolContext) -> None:
    backend = backend_from_config("brave", api_key_env="NANOBOT_TEST_BRAVE_KEY_UNSET")
    with pytest.raises(ToolError, match="NANOBOT_TEST_BRAVE_KEY_UNSET"):
        await WebSearch(backend).run({"query": "x"}, ctx)
