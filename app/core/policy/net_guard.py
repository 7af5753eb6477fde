"""Where ``web_fetch`` may connect: public addresses only, unless the config names the host.

A model that can fetch URLs can otherwise reach what only this machine can: a local server, the
cloud metadata service (169.254.169.254), the router. Every hop (the first URL and each redirect)
is resolved here and refused when any address it resolves to is loopback, private, link-local,
shared, reserved, multicast or unspecified (IPv4-mapped and NAT64/6to4 forms are unwrapped first,
and odd spellings such as ``2130706433``, ``0x7f.1`` or ``127.1`` resolve like the system resolver
reads them). The connection then goes to the very address that was checked, so a DNS answer that
changes between the check and the connect (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The host resolves to an address web_fetch must not reach."""


def _host(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) as httpx, which does the fetch, reads the URL (host in IDNA ASCII)."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        return "", "", None
    host = parsed.raw_host.decode("ascii", "replace").lower().rstrip(".")
    return parsed.scheme.lower(), host, parsed.port


def host_key(url: str) -> str:
    """``https://Example.com:8443/x`` → ``example.com:8443`` (the port only when not the
    scheme's default); "" for a URL without a host."""
    scheme, host, port = _host(url)
    if not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"


def host_matches(url: str, entries: Iterable[str]) -> bool:
    """Whether the URL's host is named by one of ``entries``: ``example.com`` (that host, any
    port), ``example.com:8080`` (that port), ``*.example.com`` (its subdomains)."""
    key = host_key(url)
    _, host, _ = _host(url)
    if not host:
        return False
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry.startswith("*."):
            if host.endswith(entry[1:]):
                return True
        elif entry in (key, host) or (entry.strip("[]") == host):
            return True
    return False


def unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside IPv4-mapped, 6to4, NAT64 and Teredo forms."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_problem(ip: IPAddress) -> str:
    """Why ``ip`` must not be reached ("" for a public unicast address)."""
    inner = unwrap(ip)
    for addr in (inner, ip):
        if addr.is_loopback:
            return "a loopback address"
        if addr.is_unspecified:
            return "the unspecified address"
        if addr.is_link_local:
            return "a link-local address (cloud metadata lives here)"
        if addr.is_multicast:
            return "a multicast address"
        if addr.is_private:
            return "a private-network address"
        if addr.is_reserved or not addr.is_global:
            return "a reserved or non-public address"
    return ""


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        addr = str(sockaddr[0]).split("%", 1)[0]
        if addr not in seen:
            seen.append(addr)
    return seen


async def checked_addresses(host: str, port: int, private_ok: Sequence[str]) -> list[str]:
    """The addresses of ``host``; raises :class:`AddressRefused` when any is off limits and the
    host is not named in ``private_ok``."""
    bare = host.strip("[]").lower()
    allowed = any(bare == e.strip().strip("[]").lower() for e in private_ok)
    try:
        addresses = await resolve(bare, port)
    except OSError as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise httpx.ConnectError(f"cannot resolve {host}")
    if not allowed:
        for addr in addresses:
            problem = address_problem(ipaddress.ip_address(addr))
            if problem:
                raise AddressRefused(f"{host} resolves to {addr}, {problem}; web_fetch only "
                                     "reaches public addresses (a host can be allowed in "
                                     "[tools] web_fetch_private_hosts)")
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host itself, then connects to the checked address."""

    def __init__(self, private_ok: Sequence[str]) -> None:
        self.private_ok = tuple(private_ok)
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int,
                          timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await checked_addresses(host, port, self.private_ok)
        error: Exception | None = None
        for addr in addresses:
            try:
                return await self.inner.connect_tcp(addr, port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str,
                                  timeout: float | None = None,  # noqa: ASYNC109 - as above
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from web_fetch")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with its connection pool built on the guarded backend (the pool is
    the transport's one collaborator; httpx has no argument to pass a network backend)."""

    def __init__(self, private_ok: Sequence[str] = ()) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=10, max_keepalive_connections=5, keepalive_expiry=5.0,
            network_backend=_GuardedBackend(private_ok))
