"""Does a library earn its weight over web_fetch's own HTML-to-text? Measured on saved pages.

    python bench/html_extract.py [--per-site N] [PAGE.html | DIR ...]

Without arguments it samples pages saved on this machine by several generators (rustdoc, mdBook,
Node's API docs, npm's docs, DocBook, gtk-doc, ...), ``--per-site`` from each. For every page it
runs web_fetch's extractor (``app/core/tools/html_text.py``, the stdlib parser) and, when they are
installed, selectolax (lexbor, an HTML5 tree builder) and trafilatura (main-content extraction),
and prints per extractor:

- ms/page: median time to turn the decoded page into text;
- recall: the share of the page's text blocks (``p``, ``li``, ``pre``, ``h1``-``h6``, ``td``,
  ``dd`` of 20+ characters, read by selectolax's HTML5 tree, which follows the browser's rules)
  whose text appears in the output, compared without whitespace (extractors break lines in
  different places): the rest is what a model reading the output misses;
- title: pages whose title equals the HTML5 tree's ``<head><title>``;
- chars: median output size (what it costs in the context window).

The baseline is the stdlib extractor in the same run; each library's ratio is printed against it.
"""

from __future__ import annotations

import argparse
import glob
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.core.tools.html_text import decode_html, html_to_text

SITES = {
    "rustdoc": "/root/.rustup/toolchains/stable-*/share/doc/rust/html/std/*/struct.*.html",
    "mdbook": "/root/.rustup/toolchains/stable-*/share/doc/rust/html/book/ch*.html",
    "rustc-book": "/root/.rustup/toolchains/stable-*/share/doc/rust/html/rustc/**/*.html",
    "nodejs": "/usr/share/doc/nodejs/api/*.html",
    "npm": "/usr/lib/node_modules/npm/docs/output/**/*.html",
    "docbook": "/usr/share/doc/valgrind/html/*.html",
    "gtk-doc": "/usr/share/doc/libxslt1-dev/**/*.html",
    "misc": "/usr/share/doc/*/*.html",
}

Extractor = Callable[[str], tuple[str, str]]


def norm(text: str) -> str:
    return " ".join(text.split())


def squeeze(text: str) -> str:
    """Text without any whitespace: block separators differ between extractors (a line break
    where the reference tree has none) and must not count as missing text."""
    return "".join(text.split())


def reference(html: str) -> tuple[str, list[str]]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    title_node = tree.css_first("head > title")
    title = norm(title_node.text()) if title_node else ""
    blocks = []
    for node in tree.css("body p, body li, body pre, body h1, body h2, body h3, body h4, "
                         "body h5, body h6, body td, body dd"):
        if node.css_first("p, li, pre, td, dd") is not None:
            continue  # a container: its own blocks count
        text = squeeze(node.text(deep=True))
        if len(text) >= 20:
            blocks.append(text)
    return title, blocks


def stdlib(html: str) -> tuple[str, str]:
    return html_to_text(html, "")


def selectolax(html: str) -> tuple[str, str]:
    from selectolax.lexbor import LexborHTMLParser as HTMLParser

    tree = HTMLParser(html)
    for node in tree.css("script, style, noscript, template, svg"):
        node.decompose()
    title_node = tree.css_first("head > title")
    body = tree.body
    return (title_node.text() if title_node else ""), (body.text(separator="\n") if body else "")


def trafilatura(html: str) -> tuple[str, str]:
    import trafilatura as t

    text = t.extract(html, include_comments=False, include_tables=True) or ""
    meta = t.extract_metadata(html)
    return (meta.title or "") if meta else "", text


def pages(args: list[str], per_site: int) -> list[tuple[str, Path]]:
    if args:
        out: list[tuple[str, Path]] = []
        for a in args:
            p = Path(a)
            files = sorted(p.rglob("*.html")) if p.is_dir() else [p]
            out += [(p.parent.name if p.is_dir() else "given", f) for f in files]
        return out
    chosen: list[tuple[str, Path]] = []
    for site, pattern in SITES.items():
        files = sorted(Path(f) for f in glob.glob(pattern, recursive=True)
                       if Path(f).stat().st_size > 4000)
        step = max(1, len(files) // per_site) if files else 1
        chosen += [(site, f) for f in files[::step][:per_site]]
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pages", nargs="*")
    ap.add_argument("--per-site", type=int, default=5)
    args = ap.parse_args()
    try:
        import selectolax as _  # noqa: F401 - the reference tree needs it
    except ImportError:
        print("selectolax is needed for the reference blocks: pip install selectolax")
        return 2
    extractors: dict[str, Extractor] = {"stdlib (html_text)": stdlib, "selectolax": selectolax}
    try:
        import trafilatura as _t  # noqa: F401
        extractors["trafilatura"] = trafilatura
    except ImportError:
        print("trafilatura not installed: skipped")
    chosen = pages(args.pages, args.per_site)
    stats = {name: {"ms": [], "recall": [], "title": 0, "chars": []} for name in extractors}
    sites = sorted({s for s, _ in chosen})
    for _site, path in chosen:
        html = decode_html(path.read_bytes(), None)
        ref_title, blocks = reference(html)
        for name, fn in extractors.items():
            t0 = time.perf_counter()
            title, text = fn(html)
            stats[name]["ms"].append((time.perf_counter() - t0) * 1000)
            flat = squeeze(text)
            if blocks:
                stats[name]["recall"].append(sum(b in flat for b in blocks) / len(blocks))
            stats[name]["title"] += norm(title) == ref_title
            stats[name]["chars"].append(len(text))
    print(f"{len(chosen)} pages from {len(sites)} generators: {', '.join(sites)}\n")
    print(f"{'extractor':<20} {'ms/page':>8} {'recall':>8} {'min recall':>10} {'title ok':>9} "
          f"{'chars':>8}")
    base = stats["stdlib (html_text)"]
    for name, s in stats.items():
        print(f"{name:<20} {statistics.median(s['ms']):>8.2f} "
              f"{statistics.mean(s['recall']):>8.3f} {min(s['recall']):>10.3f} "
              f"{s['title']:>5}/{len(chosen):<3} {statistics.median(s['chars']):>8.0f}")
    for name, s in stats.items():
        if s is base:
            continue
        print(f"ratio {name}/stdlib: time {statistics.median(s['ms']) / statistics.median(base['ms']):.2f}, "
              f"recall {statistics.mean(s['recall']) / statistics.mean(base['recall']):.3f}, "
              f"chars {statistics.median(s['chars']) / statistics.median(base['chars']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
