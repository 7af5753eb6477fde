"""A fault-injecting OpenAI-compatible server on 127.0.0.1, for the stream-strictness tests.

Each fault is a list of scripts, one per request (the last one repeats): a script writes the raw
HTTP response byte by byte as it likes, so it can send the wrong content type, split an event over
several ``data:`` lines, reset the connection mid-reply, stall, or never stop. The ``fault``
fixture (parameterised by fault name, ``indirect=True``) yields a running :class:`FaultServer`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

ANSWER = "The answer is 42."


class Reply:
    """The response side of one request: raw bytes on the socket."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop

    def raw(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def head(self, status: int = 200, ctype: str = "text/event-stream",
             extra: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} X", f"content-type: {ctype}", "connection: close",
                 *(f"{k}: {v}" for k, v in (extra or {}).items())]
        self.raw("\r\n".join(lines) + "\r\n\r\n")

    def event(self, data: str, eol: str = "\n") -> None:
        self.raw(f"data: {data}{eol}{eol}")

    def delta(self, finish: str | None = None, **delta: Any) -> None:
        self.event(chunk(delta, finish))

    def done(self) -> None:
        self.raw("data: [DONE]\n\n")

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a crashed server or proxy does."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def hang(self) -> None:
        """Send nothing more until the server stops."""
        self.stop.wait()


Script = Callable[[Reply], None]


def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def answer(r: Reply, text: str = ANSWER) -> None:
    """A well-formed streamed reply."""
    r.head()
    for word in text.split(" "):
        r.delta(content=word if word == text.split(" ")[0] else " " + word)
    r.delta(finish="stop")
    r.done()


def status(code: int) -> Script:
    def script(r: Reply) -> None:
        r.head(code, "application/json")
        r.raw(json.dumps({"error": {"message": f"status {code}"}}))
    return script


def tool_call(name: str, **arguments: Any) -> Script:
    """A reply that is one native tool call."""
    def script(r: Reply) -> None:
        r.head()
        r.delta(tool_calls=[{"index": 0, "id": "call_1", "type": "function",
                             "function": {"name": name, "arguments": json.dumps(arguments)}}])
        r.delta(finish="tool_calls")
        r.done()
    return script


def long_answer(words: int) -> Script:
    def script(r: Reply) -> None:
        answer(r, " ".join(f"word{i}" for i in range(words)))
    return script


@dataclass
class FaultServer:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def fault_server(*scripts: Script) -> Iterator[FaultServer]:
    """Serve ``POST …/chat/completions``: request ``i`` gets ``scripts[min(i, last)]``."""
    stop = threading.Event()
    info = FaultServer("")
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            data = b""
            while b"\r\n\r\n" not in data:
                part = sock.recv(65536)
                if not part:
                    return
                data += part
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += sock.recv(65536)
            with lock:
                n = len(info.requests)
                info.requests.append(json.loads(body or b"{}"))
            script = scripts[min(n, len(scripts) - 1)]
            with contextlib.suppress(OSError):  # the client went away (it cut a stream short)
                script(Reply(sock, stop))

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    info.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield info
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


# --- the faults ---------------------------------------------------------------------------------


def _json_reply(r: Reply) -> None:
    r.head(ctype="application/json")
    r.raw(json.dumps({"choices": [{"index": 0, "finish_reason": "stop",
                                   "message": {"role": "assistant", "content": ANSWER}}]}))


def _html(r: Reply) -> None:
    r.head(ctype="text/html")
    r.raw("<!DOCTYPE html><html><body>Sign in to continue</body></html>")


def _bare_done(r: Reply) -> None:
    r.head()
    r.done()


def _empty_body(r: Reply) -> None:
    r.head()


def _multiline_data(r: Reply) -> None:
    r.head()
    # One event, its JSON split over several data: lines (the standard joins them with \n).
    body = chunk({"content": ANSWER}).replace(", ", ",\n")
    r.raw("".join(f"data: {line}\n" for line in body.split("\n")) + "\n")
    r.delta(finish="stop")
    r.done()


def _invalid_json_delta(r: Reply) -> None:
    r.head()
    r.delta(content="The answer is ")
    r.event('{"choices": [{"index": 0, "delta": {"content": "42"}')  # cut mid-object
    r.delta(content=".")
    r.delta(finish="stop")
    r.done()


def _no_end(r: Reply) -> None:
    r.head()
    r.delta(content="The answer")  # then the connection closes: no finish, no [DONE]


def _non_object(r: Reply) -> None:
    r.head()
    r.event("[1,2,3]")
    r.done()


def _delta_str(r: Reply) -> None:
    r.head()
    r.event(json.dumps({"choices": [{"index": 0, "delta": "str", "finish_reason": None}]}))
    r.done()


def _usage_str(r: Reply) -> None:
    r.head()
    r.delta(content=ANSWER)
    r.event(json.dumps({"choices": [], "usage": {"prompt_tokens": "x", "completion_tokens": 3}}))
    r.delta(finish="stop")
    r.done()


def _wrong_type_sse(r: Reply) -> None:
    r.head(ctype="text/plain")
    r.delta(content=ANSWER, finish="stop")
    r.done()


def _spec_corners(r: Reply) -> None:
    r.head()
    r.raw("\ufeff: a comment first\r\nretry: 3000\r\n\r\n")
    r.raw("event: message\r\nid: 7\r\ndata:" + chunk({"content": ANSWER}) + "\r\n\r\n")
    r.raw(": keep-alive\n\n")
    r.raw("data: " + chunk({}, "stop") + "\r\rdata: [DONE]\r\r")


def _reset_mid(r: Reply) -> None:
    r.head()
    r.delta(content="half ")
    r.reset()


def _half_done(r: Reply) -> None:
    answer(r, "half done")


def _silent_after_head(r: Reply) -> None:
    r.head()
    r.hang()


def _silent(r: Reply) -> None:
    r.hang()


def _endless(r: Reply) -> None:
    r.head()
    while not r.stop.is_set():
        r.delta(content="la ")


def _cut_write(r: Reply) -> None:
    r.head()
    r.delta(tool_calls=[{"index": 0, "id": "call_w", "type": "function",
                         "function": {"name": "write_file",
                                      "arguments": '{"path": "out.txt", "content": "line one\\nli'}}])
    r.delta(finish="length")
    r.done()


def _cut_bare(r: Reply) -> None:
    r.head()
    r.delta(tool_calls=[{"index": 0, "id": "call_l", "type": "function",
                         "function": {"name": "list_dir", "arguments": '{"path": '}}])
    r.delta(finish="length")
    r.done()


# Replies that must never pass for an answer: the chain falls back, a lone provider fails loudly.
BAD = {
    "html_200": [_html],
    "bare_done": [_bare_done],
    "empty_body": [_empty_body],
    "invalid_json_delta": [_invalid_json_delta],
    "no_end": [_no_end],
    "non_object_chunk": [_non_object],
    "delta_str": [_delta_str],
}
# Odd but complete replies: the whole answer must come through.
QUIRKY = {
    "json_reply": [_json_reply],
    "multiline_data": [_multiline_data],
    "usage_str": [_usage_str],
    "wrong_type_sse": [_wrong_type_sse],
    "spec_corners": [_spec_corners],
}
# A transient failure first, then a good reply on the same server.
TRANSIENT = {
    "reset_mid_stream": [_reset_mid, _half_done],
    "silent_after_head": [_silent_after_head, _half_done],
    "silent": [_silent, _half_done],
}
OTHER = {
    "endless": [_endless],
    "cut_write_file": [_cut_write, answer],
    "cut_bare_path": [_cut_bare, answer],
    "always_503": [status(503)],
}
FAULTS: dict[str, list[Script]] = {**BAD, **QUIRKY, **TRANSIENT, **OTHER}


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    """A fault server for ``request.param`` (a name in :data:`FAULTS`)."""
    with fault_server(*FAULTS[request.param]) as server:
        yield server
