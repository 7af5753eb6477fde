"""A real HTTP file server on 127.0.0.1 with Range support and scripted misbehaviour, for the
downloader and the setup wizard (no model hub is reachable from the test machine)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FileHost:
    files: dict[str, bytes] = field(default_factory=dict)
    # path -> bytes to send before dropping the connection (once, on the next full GET)
    cut_after: dict[str, int] = field(default_factory=dict)
    # paths whose next response has flipped bytes (once)
    corrupt_once: set[str] = field(default_factory=set)
    # paths that are always corrupt
    corrupt_always: set[str] = field(default_factory=set)
    publish_sha: bool = True
    status_for: dict[str, int] = field(default_factory=dict)  # path -> status with empty body
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, range)
    # path -> the bearer token it requires (401 without it, 403 with a wrong one)
    tokens: dict[str, str] = field(default_factory=dict)
    auth_seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)
    base: str = ""

    def add(self, name: str, data: bytes) -> str:
        self.files["/" + name] = data
        return f"{self.base}/{name}"

    def sha(self, name: str) -> str:
        return hashlib.sha256(self.files["/" + name]).hexdigest()


@contextmanager
def file_server() -> Iterator[FileHost]:
    host = FileHost()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, head_only: bool) -> None:
            path = self.path.split("?")[0]
            rng = self.headers.get("Range", "")
            host.requests.append((self.command, path, rng))
            auth = self.headers.get("Authorization", "")
            host.auth_seen.append((path, auth))
            if path in host.tokens and auth != f"Bearer {host.tokens[path]}":
                self.send_response(403 if auth else 401)
                self.send_header("www-authenticate", 'Bearer realm="files"')
                self.send_header("content-length", "0")
                self.end_headers()
                return
            data = host.files.get(path)
            if path in host.status_for:
                self.send_response(host.status_for[path])
                self.send_header("content-length", "0")
                self.end_headers()
                return
            if data is None:
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            sha = hashlib.sha256(data).hexdigest()
            body = data
            if path in host.corrupt_once or path in host.corrupt_always:
                host.corrupt_once.discard(path)
                body = bytearray(data)
                body[-1] ^= 0xFF
                body = bytes(body)
            start = 0
            match = re.match(r"bytes=(\d+)-", rng)
            if match:
                start = int(match.group(1))
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("content-range", f"bytes */{len(body)}")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("content-range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            chunk = body[start:]
            self.send_header("content-length", str(len(chunk)))
            self.send_header("content-type", "application/octet-stream")
            self.send_header("etag", f'"{sha}"' if host.publish_sha else '"v1"')
            if host.publish_sha:
                self.send_header("x-linked-etag", f'"{sha}"')
            self.end_headers()
            if head_only:
                return
            cut = host.cut_after.pop(path, None)
            if cut is not None:
                self.wfile.write(chunk[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(chunk)

        def do_GET(self) -> None:
            self._send(False)

        def do_HEAD(self) -> None:
            self._send(True)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
