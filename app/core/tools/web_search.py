"""Search backends for ``web_search``. A backend is anything with ``name`` and
``async search(query, count) -> list[SearchHit]``; :func:`backend_from_config` builds the
configured one (or None, and the tool then says search is not configured)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import httpx


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str = ""


class SearchError(Exception):
    pass


class SearchBackend(Protocol):
    name: str

    async def search(self, query: str, count: int) -> list[SearchHit]: ...


class _HTTPBackend:
    name = "http"

    def __init__(self, *, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = timeout
        self.transport = transport

    async def _get(self, url: str, params: dict[str, Any],
                   headers: dict[str, str] | None = None) -> Any:
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            try:
                resp = await client.get(url, params=params, headers=headers or {})
            except httpx.HTTPError as exc:
                raise SearchError(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code >= 400:
            raise SearchError(f"HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise SearchError("the search service did not answer with JSON") from exc


class SearxngBackend(_HTTPBackend):
    """A SearXNG instance (``GET {base_url}/search?format=json``)."""

    name = "searxng"

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.base_url = base_url.rstrip("/")

    async def search(self, query: str, count: int) -> list[SearchHit]:
        data = await self._get(f"{self.base_url}/search", {"q": query, "format": "json"})
        results = data.get("results", []) if isinstance(data, dict) else []
        return [SearchHit(str(r.get("title", "")), str(r.get("url", "")),
                          str(r.get("content", "")))
                for r in results[:count] if isinstance(r, dict) and r.get("url")]


class BraveBackend(_HTTPBackend):
    """Brave Search API; the key is read from the environment variable named in config."""

    name = "brave"
    URL = "https://api.search.brave.com/res/v1/web/search"

    def __init__(self, api_key_env: str, *, base_url: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.api_key_env = api_key_env
        self.url = base_url.rstrip("/") + "/res/v1/web/search" if base_url else self.URL

    async def search(self, query: str, count: int) -> list[SearchHit]:
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if not key:
            raise SearchError(f"the environment variable {self.api_key_env or '(api_key_env)'} "
                              "holding the Brave API key is not set")
        data = await self._get(self.url, {"q": query, "count": count},
                               {"X-Subscription-Token": key, "Accept": "application/json"})
        web = data.get("web", {}) if isinstance(data, dict) else {}
        results = web.get("results", []) if isinstance(web, dict) else []
        return [SearchHit(str(r.get("title", "")), str(r.get("url", "")),
                          str(r.get("description", "")))
                for r in results[:count] if isinstance(r, dict) and r.get("url")]


def backend_from_config(backend: str, *, base_url: str = "", api_key_env: str = "",
                        transport: httpx.AsyncBaseTransport | None = None
                        ) -> SearchBackend | None:
    """The backend named in config, or None when none is configured."""
    if backend == "searxng" and base_url:
        return SearxngBackend(base_url, transport=transport)
    if backend == "brave":
        return BraveBackend(api_key_env, base_url=base_url, transport=transport)
    return None
