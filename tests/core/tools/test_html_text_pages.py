"""Pages the old HTML extractor got wrong, through html_to_text and through web_fetch on a real
HTTP server: an omitted ``</head>`` emptied the page, a ``<title>`` outside ``<head>`` was repeated
in the body, an ``<svg><title>`` leaked into the page title, and a charset named only in
``<meta>`` was ignored (a garbled non-UTF-8 page)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext
from app.core.tools.html_text import decode_html, html_to_text
from app.core.tools.web import WebFetch

RUSSIAN = "Погода в Москве: солнечно"
PAGES: dict[str, tuple[bytes, str]] = {
    # The optional </head> left out, as HTML allows: <body> ends the head.
    "/no-head-end": (b"<html><head><title>Notes</title><meta name=x content=y>"
                     b"<body><p>The meeting moved to Tuesday.</p></body></html>", "text/html"),
    "/meta-charset": (f'<html><head><meta charset="windows-1251"><title>{RUSSIAN}</title>'
                      f"</head><body><p>{RUSSIAN}</p></body></html>".encode("cp1251"),
                      "text/html"),
    "/http-equiv": ('<html><head><meta http-equiv="Content-Type" content="text/html; '
                    'charset=iso-8859-1"></head><body><p>Café crème</p></body></html>'
                    .encode("latin-1"), "text/html"),
}


def test_a_page_without_the_closing_head_tag_keeps_its_body() -> None:
    title, text = html_to_text(PAGES["/no-head-end"][0].decode())
    assert title == "Notes"
    assert text == "The meeting moved to Tuesday."


def test_head_without_any_tags_around_the_body() -> None:
    title, text = html_to_text("<title>T</title><p>one</p><p>two</p>")
    assert title == "T" and text.split() == ["one", "two"]


def test_a_title_outside_head_is_the_title_and_not_body_text() -> None:
    title, text = html_to_text("<html><body><title>Report</title><p>Sales rose.</p></body>")
    assert title == "Report"
    assert "Report" not in text and "Sales rose." in text


def test_svg_titles_stay_out_of_the_page_title() -> None:
    html = ("<html><head><title>Dashboard</title></head><body>"
            "<svg><title>chart icon</title><circle r=1 /></svg><p>Ready.</p></body></html>")
    title, text = html_to_text(html)
    assert title == "Dashboard"
    assert "chart icon" not in text and "Ready." in text
    # An icon in the body before a late <title>: still not the page title.
    title, _ = html_to_text("<body><svg><title>logo</title></svg><title>Real</title></body>")
    assert title == "Real"


@pytest.mark.parametrize("path", ["/meta-charset", "/http-equiv"])
def test_a_charset_named_only_in_meta_decodes_the_page(path: str) -> None:
    body, _ = PAGES[path]
    text = decode_html(body, None)
    assert (RUSSIAN if path == "/meta-charset" else "Café crème") in text


def test_the_http_header_charset_wins_and_a_bom_wins_over_both() -> None:
    body = '<meta charset="windows-1251"><p>Ünïcode</p>'.encode()
    assert "Ünïcode" in decode_html(body, "utf-8")
    assert "Ünïcode" in decode_html(b"\xef\xbb\xbf" + body, "iso-8859-1")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body, ctype = PAGES[self.path]
        self.send_response(200)
        self.send_header("Content-Type", ctype)  # no charset parameter
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("path, expected", [
    ("/no-head-end", ["The meeting moved to Tuesday."]),
    ("/meta-charset", [f"Title: {RUSSIAN}", f"\n{RUSSIAN}"]),
    ("/http-equiv", ["Café crème"]),
])
async def test_web_fetch_reads_these_pages(server: str, tmp_path: Path, path: str,
                                           expected: list[str]) -> None:
    ctx = ToolContext(workspace=tmp_path, cancel=CancelToken())
    # The test server is on loopback, which web_fetch reaches only when the config names it.
    page = await WebFetch(private_hosts=("127.0.0.1",)).run({"url": server + path}, ctx)
    for text in expected:
        assert text in page.content
