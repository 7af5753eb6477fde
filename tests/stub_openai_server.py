"""A minimal OpenAI-style server run as a child process by the server-manager tests.

Usage: python tests/stub_openai_server.py PORT [DELAY_BEFORE_LISTEN]. It answers GET /v1/models
and streams a fixed reply for POST /v1/chat/completions.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"data": [{"id": "stub"}]}).encode()
        self.send_response(200 if self.path.startswith("/v1/models") else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for piece in ("stub ", "reply"):
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: object) -> None:
        sys.stdout.write("request\n")
        sys.stdout.flush()


if __name__ == "__main__":
    port = int(sys.argv[1])
    if len(sys.argv) > 2:
        time.sleep(float(sys.argv[2]))
    print(f"stub listening on {port}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
