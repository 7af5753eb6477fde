"""HTML to readable plain text with the standard library's parser (no extra dependency).

Scripts, styles and other invisible parts are dropped; block elements become line breaks,
headings get ``#`` marks, list items ``- ``, and links keep their target as ``text (url)`` when the
text alone would hide it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

_SKIP = {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "head"}
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
        if tag == "title":
            self._in_title = True
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
