"""HTML to readable plain text with the standard library's parser (no extra dependency).

Scripts, styles and other invisible parts are dropped; block elements become line breaks,
headings get ``#`` marks, list items ``- ``, and links keep their target as ``text (url)`` when the
text alone would hide it. The page title is the first ``<title>`` outside ``<svg>``/``<math>``
(where a title is an icon's tooltip), wherever it stands, and never body text. ``<head>`` is not
skipped as a whole: its end tag is optional, and a page that leaves it out would lose its body;
what a head holds that is not text (``meta``, ``link``, scripts, styles) yields nothing anyway.

A measurement of this extractor against selectolax and trafilatura on saved pages is in
``bench/html_extract.py`` (BENCHMARKS.md).
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

_SKIP = {"script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "title"}
_BLOCK = {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "br",
          "tr", "table", "ul", "ol", "pre", "blockquote", "form", "hr", "dl", "dt", "dd",
          "figure", "figcaption"}


class _Extractor(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._pre = 0
        self._href: str | None = None
        self._link_text: list[str] = []
        self._line_start = True

    def _newline(self) -> None:
        self.parts.append("\n")
        self._line_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._skip and not self.title:
            self._in_title = True  # the document's title, not an <svg> tooltip
        if tag in _SKIP:
            self._skip += 1
            return
        if tag in _BLOCK or tag == "li" or re.fullmatch(r"h[1-6]", tag):
            self._newline()
        if re.fullmatch(r"h[1-6]", tag):
            self.parts.append("#" * int(tag[1]) + " ")
            self._line_start = False
        elif tag == "li":
            self.parts.append("- ")
            self._line_start = False
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag == "a":
            href = dict(attrs).get("href")
            self._href = urljoin(self.base_url, href) if href else None
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag == "a" and self._href:
            text = "".join(self._link_text).strip()
            if self._href.startswith("http") and text and self._href not in text:
                self.parts.append(f" ({self._href})")
            self._href = None
        if tag in _BLOCK or re.fullmatch(r"h[1-6]", tag):
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._skip:
            return
        if not self._pre:
            data = re.sub(r"\s+", " ", data)
            if self._line_start:
                data = data.lstrip()
        if data:
            self._line_start = data.endswith("\n")
        self.parts.append(data)
        if self._href is not None:
            self._link_text.append(data)


def html_to_text(html: str, base_url: str = "") -> tuple[str, str]:
    """``(title, text)`` of an HTML document."""
    parser = _Extractor(base_url)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # the stdlib parser is lenient; anything it still rejects is kept raw
        return "", re.sub(r"<[^>]+>", " ", html)
    text = "".join(parser.parts)
    out: list[str] = []
    for ln in (line.rstrip() for line in text.splitlines()):
        if ln or (out and out[-1]):  # at most one blank line in a row
            out.append(ln)
    return " ".join(parser.title.split()), "\n".join(out).strip()


# WHATWG maps these labels to windows-1252, which is what such pages really hold (curly quotes,
# the euro sign); Python's latin-1 would turn those bytes into control characters.
_AS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""",
                           re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(body: bytes, header_charset: str | None) -> str:
    """The text of an HTML page in the encoding the browser would use: a byte-order mark, then the
    HTTP header's charset, then a ``<meta charset>`` / ``http-equiv`` in the first 4 KiB, then
    UTF-8. Undecodable bytes become U+FFFD rather than an error."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace")
    codec = _codec(header_charset)
    if codec is None:
        m = _META_CHARSET.search(body[:4096])
        codec = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if codec in ("utf-16", "utf-16-le", "utf-16-be"):
        codec = "utf-8"  # a meta tag readable as ASCII cannot be UTF-16 (as the spec says)
    return body.decode(codec or "utf-8", errors="replace")
