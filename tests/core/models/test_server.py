"""Managed servers: real child processes on 127.0.0.1, real crashes, no zombies."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest

from app.core.models.server import (
    Backoff,
    ManagedServer,
    ServerSpec,
    ServerStartError,
    ServerState,
    ServerStatus,
    server_command,
)
from tests.gguf_fixture import write_gguf

STUB = str(Path(__file__).resolve().parents[2] / "stub_openai_server.py")


def gone(pid: int) -> bool:
    """True once the process is reaped: a zombie still answers signal 0, so it counts as here."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class StateWaiter:
    def __init__(self, server: ManagedServer) -> None:
        self.seen: list[ServerStatus] = []
        self._want: tuple[ServerState, int] | None = None
        self._event = asyncio.Event()
        server.add_listener(self._on)

    def _on(self, st: ServerStatus) -> None:
        self.seen.append(st)
        if self._want and st.state is self._want[0] and st.restarts >= self._want[1]:
            self._event.set()

    async def wait(self, state: ServerState, restarts: int = 0) -> None:
        self._want = (state, restarts)
        if any(s.state is state and s.restarts >= restarts for s in self.seen):
            return
        self._event.clear()
        async with asyncio.timeout(120):
            await self._event.wait()


def stub_spec(tmp_path: Path, *extra: str) -> ServerSpec:
    model = write_gguf(tmp_path / "stub.gguf")
    return ServerSpec(model_path=model, command=(sys.executable, STUB, "{port}", *extra))


async def test_stub_server_crash_restart_then_give_up(tmp_path: Path) -> None:
    server = ManagedServer("main", stub_spec(tmp_path), log_dir=tmp_path / "logs",
                           backoff=Backoff(initial=0.05, max_restarts=1))
    waiter = StateWaiter(server)
    await server.start()
    try:
        assert server.status.state is ServerState.READY and server.status.kind == "custom"
        first = server.kill_process()
        await waiter.wait(ServerState.READY, restarts=1)
        second = server.pid
        assert second is not None and second != first and gone(first)
        async with httpx.AsyncClient() as c:
            assert (await c.get(f"{server.base_url}/models")).status_code == 200
        server.kill_process()
        await waiter.wait(ServerState.FAILED, restarts=2)
        assert "crashed 2 times" in server.status.message and "not restarting" in \
            server.status.message
        assert [s.state for s in waiter.seen].count(ServerState.RESTARTING) == 1
        assert gone(second)
    finally:
        await server.stop()
    log = (tmp_path / "logs" / "server-main.log").read_text()
    assert log.count("=== ") == 2 and "stub listening" in log


async def test_never_healthy_is_killed_with_its_log(tmp_path: Path) -> None:
    spec = ServerSpec(model_path=write_gguf(tmp_path / "m.gguf"), command=(
        sys.executable, "-c", "print('warming up forever', flush=True); import time; "
        "time.sleep(600)"))
    server = ManagedServer("rlm", spec, log_dir=tmp_path, start_timeout=1.0)
    with pytest.raises(ServerStartError) as err:
        await server.start()
    assert "did not become healthy within 1 s" in str(err.value)
    assert "warming up forever" in err.value.log_tail
    assert server.status.state is ServerState.FAILED
    assert server.pid is not None and gone(server.pid)


async def test_dies_at_start(tmp_path: Path) -> None:
    spec = ServerSpec(model_path=write_gguf(tmp_path / "m.gguf"), command=(
        sys.executable, "-c", "import sys; print('bad flag --foo', file=sys.stderr); sys.exit(3)"))
    server = ManagedServer("memory", spec, log_dir=tmp_path)
    with pytest.raises(ServerStartError, match="exited with code 3 while starting") as err:
        await server.start()
    assert "bad flag --foo" in err.value.log_tail
    assert server.status.state is ServerState.FAILED and "bad flag" in server.status.log_tail


async def test_port_held_by_someone_else(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = ServerSpec(model_path=write_gguf(tmp_path / "m.gguf"), port=port)
        server = ManagedServer("main", spec, log_dir=tmp_path)
        with pytest.raises(ServerStartError, match=f"port {port} is already in use"):
            await server.start()
        assert server.pid is None  # nothing was started


async def test_missing_model(tmp_path: Path) -> None:
    server = ManagedServer("main", ServerSpec(model_path=tmp_path / "nope.gguf"), log_dir=tmp_path)
    with pytest.raises(ServerStartError, match="model file not found"):
        await server.start()


def test_command_prefers_llama_server_on_path(tmp_path: Path) -> None:
    spec = ServerSpec(model_path=tmp_path / "m.gguf", context=4096, threads=2, gpu_layers=-1)
    cmd, kind = server_command(spec, 9000, which=lambda n: f"/opt/bin/{n}")
    assert kind == "llama-server" and cmd[0] == "/opt/bin/llama-server"
    assert cmd[cmd.index("--n-gpu-layers") + 1] == "999" and "--jinja" in cmd
    cmd, kind = server_command(spec, 9000, python="/py", which=lambda n: None)
    assert kind == "llama_cpp.server" and cmd[:3] == ["/py", "-m", "llama_cpp.server"]
    assert cmd[cmd.index("--n_ctx") + 1] == "4096" and cmd[cmd.index("--port") + 1] == "9000"
    with pytest.raises(ServerStartError, match="not on PATH"):
        server_command(ServerSpec(model_path=spec.model_path, binary="llama-server"), 1,
                       which=lambda n: None)


def test_backoff_grows_and_caps() -> None:
    b = Backoff(initial=1, factor=2, maximum=5)
    assert [b.delay(i) for i in (1, 2, 3, 4)] == [1, 2, 4, 5]


@pytest.mark.model
async def test_real_llama_cpp_server_with_the_bundled_model(model_path: Path,
                                                            tmp_path: Path) -> None:
    progress: list[str] = []
    server = ManagedServer("main", ServerSpec(model_path=model_path, context=1024, threads=1),
                           log_dir=tmp_path)
    await server.start(progress.append)
    try:
        assert server.status.kind == "llama_cpp.server"
        async with httpx.AsyncClient(timeout=30) as c:
            models = (await c.get(f"{server.base_url}/models")).json()
        assert models["data"][0]["id"] == model_path.stem
        assert any("loading qwen2.5-coder" in p for p in progress) or server.status.elapsed < 1
    finally:
        pid = server.pid
        await server.stop()
    assert pid is not None and gone(pid) and server.status.state is ServerState.STOPPED
