"""A real MCP server for the tests, written with the same SDK Nanobot's client uses.

    python tests/mcp_server.py                       # stdio (what [mcp_servers.X] command runs)
    python tests/mcp_server.py --http --port PORT    # streamable HTTP on 127.0.0.1:PORT/mcp

Its tools do real things the tests can check from outside: ``write_note`` writes a file,
``spawn_helper`` starts a child process that outlives the call (so stopping the server must stop
its process group), ``slow`` sleeps until cancelled, ``fail`` raises. It says something on stderr
at start, which must never reach the terminal the TUI draws on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

server = MCPServer("nanobot-test", instructions="A server for Nanobot's tests.")


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="TEXT repeated TIMES times (1 to 5).")
def repeat(text: str, times: Annotated[int, Field(ge=1, le=5)]) -> str:
    return text * times


@server.tool(description="Write TEXT to the file PATH (absolute) and say how many bytes.")
def write_note(path: str, text: str) -> str:
    Path(path).write_text(text, encoding="utf-8")
    return f"wrote {len(text.encode())} bytes to {path}"


@server.tool(description="Start a helper process that keeps running; returns its pid.")
def spawn_helper() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    return str(proc.pid)


@server.tool(description="Sleep for SECONDS, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


@server.tool(description="Always fails.")
def fail() -> str:
    raise RuntimeError("this tool always fails")


@server.tool(description="Where the server runs and what it was given.")
def whoami() -> dict[str, Any]:
    return {"pid": os.getpid(), "cwd": os.getcwd(), "token": os.environ.get("TEST_MCP_TOKEN", "")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    print("nanobot-test MCP server starting", file=sys.stderr, flush=True)
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run()


if __name__ == "__main__":
    main()
