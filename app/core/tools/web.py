"""Web tools: ``web_fetch`` (httpx, at most 5 redirects, a size cap, one deadline for the whole
fetch, HTML to text) and ``web_search`` (a pluggable backend; without one configured it says so).

``web_fetch`` reaches public addresses only: each hop is resolved and checked, and the connection
goes to the checked address (see ``app.core.policy.net_guard``); hosts named in
``[tools] web_fetch_private_hosts`` may be internal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any

import httpx

from app.core.policy.net_guard import AddressRefused, GuardedTransport, checked_addresses
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult
from app.core.tools.html_text import decode_html, html_to_text
from app.core.tools.labels import label_for
from app.core.tools.web_search import SearchBackend, SearchError

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5_000_000
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Nanobot/0.1 (+local agent)"
_TEXTUAL = ("text/", "application/json", "application/xml", "application/xhtml", "+json", "+xml",
            "application/javascript", "application/x-yaml", "application/toml")


class WebFetch:
    # Reads only, so a branch may use it; its policy still asks before it reaches a host.
    read_only = True
    spec = ToolSpec(
        name="web_fetch",
        description="Fetch a web page (http or https) and return its text.",
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string", "description": "the http(s) URL to fetch"}},
            "required": ["url"],
        },
    )

    def __init__(self, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 30.0,
                 private_hosts: Sequence[str] = (),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout  # for the whole fetch: every hop, every byte
        self.private_hosts = tuple(private_hosts)
        self.transport = transport

    def label(self, args: dict[str, Any]) -> str:
        return label_for("web_fetch", args)

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return str(args.get("url") or "")

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        url = str(args.get("url") or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise ToolError(f"url must start with http:// or https://, got {url[:80]!r}")
        transport = self.transport or GuardedTransport(self.private_hosts)
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                     timeout=httpx.Timeout(self.timeout, connect=10.0),
                                     headers={"User-Agent": USER_AGENT},
                                     transport=transport) as client:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._fetch(client, url)
            except TimeoutError as exc:
                raise ToolError(f"{url} did not finish within {self.timeout:g} s; "
                                "stopped") from exc
            except AddressRefused as exc:
                raise ToolError(f"refused to fetch {url}: {exc}") from exc
            except httpx.TimeoutException as exc:
                raise ToolError(f"{url} did not answer within {self.timeout:g} s") from exc
            except httpx.HTTPError as exc:
                raise ToolError(f"could not fetch {url}: {type(exc).__name__}: {exc}") from exc

    async def _fetch(self, client: httpx.AsyncClient, url: str) -> ToolResult:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            target = httpx.URL(current)
            if target.scheme not in ("http", "https"):
                raise ToolError(f"{url} redirected to {current[:80]!r}, which is not http(s); "
                                "stopped")
            port = target.port or (443 if target.scheme == "https" else 80)
            await checked_addresses(target.host, port, self.private_hosts)
            resp = await client.send(client.build_request("GET", target), stream=True)
            try:
                nxt = resp.next_request
                if resp.is_redirect and nxt is not None:
                    current = str(nxt.url)
                    continue
                body, capped = await self._read(resp)
                return self._result(url, resp, body, capped)
            finally:
                await resp.aclose()
        raise ToolError(f"{url} redirected more than {MAX_REDIRECTS} times; stopped")

    async def _read(self, resp: httpx.Response) -> tuple[bytes, bool]:
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.aiter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_bytes:
                return b"".join(parts)[: self.max_bytes], True
        return b"".join(parts), False

    def _result(self, url: str, resp: httpx.Response, body: bytes, capped: bool) -> ToolResult:
        ctype = resp.headers.get("content-type", "").lower()
        final = str(resp.url)
        head = f"URL: {final}" + (f" (redirected from {url})" if final != url else "")
        head += f"\nStatus: {resp.status_code}"
        if ctype and not any(t in ctype for t in _TEXTUAL):
            return ToolResult(f"{head}\n[binary content ({ctype}, {len(body):,} bytes"
                              f"{'+' if capped else ''}); not shown]",
                              is_error=resp.status_code >= 400)
        text = body.decode(resp.encoding or "utf-8", errors="replace")
        if "html" in ctype or (not ctype and "<html" in text[:2000].lower()):
            title, text = html_to_text(decode_html(body, resp.charset_encoding), final)
            if title:
                head += f"\nTitle: {title}"
        elif "json" in ctype:
            with contextlib.suppress(ValueError):
                text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        if capped:
            text += (f"\n[page body capped at {self.max_bytes:,} bytes; the rest was not "
                     "downloaded]")
        return ToolResult(f"{head}\n\n{text}", is_error=resp.status_code >= 400,
                          meta={"url": final, "status": resp.status_code})


class WebSearch:
    read_only = True  # changes nothing: a branch may use it
    spec = ToolSpec(
        name="web_search",
        description="Search the web; returns titles, URLs and snippets.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "what to search for"},
                "count": {"type": "integer", "description": "number of results, 1-10"},
            },
            "required": ["query"],
        },
    )

    def __init__(self, backend: SearchBackend | None = None, *, max_results: int = 5) -> None:
        self.backend = backend
        self.max_results = max_results

    def label(self, args: dict[str, Any]) -> str:
        return label_for("web_search", args)

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        query = str(args.get("query") or "").strip()
        if not query:
            raise ToolError("query is required")
        if self.backend is None:
            raise ToolError("web search is not configured: set [tools.web_search] backend "
                            "(\"searxng\" with base_url, or \"brave\" with api_key_env) in the "
                            "config file. Answer from what you know, or use web_fetch on a URL.")
        count = args.get("count")
        n = count if isinstance(count, int) and not isinstance(count, bool) else self.max_results
        n = max(1, min(10, n))
        try:
            hits = await self.backend.search(query, n)
        except SearchError as exc:
            raise ToolError(f"web search failed ({self.backend.name}): {exc}") from exc
        if not hits:
            return ToolResult(f"No results for: {query}")
        lines = [f"Results for: {query}"]
        for i, h in enumerate(hits[:n], 1):
            lines.append(f"{i}. {h.title}\n   {h.url}" + (f"\n   {h.snippet}" if h.snippet else ""))
        return ToolResult("\n".join(lines), meta={"count": len(hits)})
