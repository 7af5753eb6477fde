"""``nanobot serve [--host H] [--port P]``: the same app in a browser, through textual-serve.

Every browser tab gets its own ``nanobot`` process (same keys, same config, same sessions). The
app can run commands on this machine, so the server is careful about who reaches it:

- it listens on 127.0.0.1 unless ``--host`` says otherwise;
- any other host needs a token (``--token``, ``$NANOBOT_SERVE_TOKEN``, or a random one printed
  with the URL): the first page load carries it as ``?token=…`` and gets it back as an HttpOnly
  cookie, which the websocket must present;
- the websocket must come from a page this server served (its ``Origin`` is this host), so
  another site open in the same browser cannot drive the app; on loopback the ``Host`` header
  must be a loopback name too (DNS rebinding).
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

COOKIE = "nanobot_token"
TOKEN_ENV = "NANOBOT_SERVE_TOKEN"
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """``"[::1]:8000"`` → ``"::1"``, ``"localhost:8000"`` → ``"localhost"``."""
    return urlsplit(f"http://{host_header}").hostname or ""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve the app to a web browser (textual-serve)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other needs a token)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token", help=f"token for a non-loopback host (default: ${TOKEN_ENV}, else "
                                   "a random one printed with the URL)")
    p.add_argument("--public-url", help="the URL browsers use when it is not http://HOST:PORT "
                                        "(a reverse proxy, https)")
    p.set_defaults(handler=run)


def app_command(args: argparse.Namespace) -> str:
    """The command each browser tab runs: this Python, this package, the same flags."""
    cmd = [sys.executable, "-m", "app"]
    for flag in ("model", "workspace"):
        value = getattr(args, flag, None)
        if value:
            cmd += [f"--{flag}", value]
    return shlex.join(cmd)


def make_server(command: str, *, host: str, port: int, token: str = "",
                public_url: str | None = None) -> Any:
    """A textual-serve Server for ``command`` with the guards described above."""
    from aiohttp import web
    from textual_serve.server import Server

    loopback = is_loopback(host)
    # Behind a proxy the page's origin is the public URL, whatever Host the proxy forwards.
    public_hosts = {urlsplit(public_url).netloc} if public_url else set()

    class GuardedServer(Server):
        def initialize_logging(self) -> None:
            """Nanobot's own logging (a file) stays; textual-serve's console handler is not
            added."""

        async def on_startup(self, app: web.Application) -> None:
            return None  # the URL (with its token) is printed by run()

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(guard)
            return app

    server = GuardedServer(command, host=host, port=port, title="Nanobot",
                           public_url=public_url)

    Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if loopback and not is_loopback(_hostname(request.host)):
            raise web.HTTPForbidden(text="nanobot serve answers loopback names only "
                                         "(--host to serve other addresses)")
        if request.path == "/ws":
            origin = urlsplit(request.headers.get("Origin", "")).netloc
            if origin not in {request.host, *public_hosts}:
                raise web.HTTPForbidden(text="the websocket must come from this server's page")
        given = request.query.get("token") or request.cookies.get(COOKIE, "")
        if token and not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPUnauthorized(text="a token is required: open the URL that "
                                            "`nanobot serve` printed (…/?token=…)")
        if public_url is None and request.path == "/":
            # Links and the websocket URL on the page follow the address the browser used.
            server.public_url = f"{request.scheme}://{request.host}"
        response = await handler(request)
        if token and request.query.get("token"):
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response

    return server


def run(args: argparse.Namespace) -> int:
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print("error: nanobot serve needs textual-serve: pip install textual-serve",
              file=sys.stderr)
        return 1
    host, port = args.host, args.port
    token = args.token or os.environ.get(TOKEN_ENV, "")
    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
    shown = f"[{host}]" if ":" in host else host
    url = (args.public_url or f"http://{shown}:{port}").rstrip("/") + "/"
    if token:
        url += f"?token={token}"
    server = make_server(app_command(args), host=host, port=port, token=token,
                         public_url=args.public_url)
    print(f"Nanobot in the browser: {url}", flush=True)
    if not is_loopback(host):
        print("  anyone with this URL can use Nanobot on this machine; Ctrl+C stops serving",
              flush=True)
    try:
        server.serve()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
