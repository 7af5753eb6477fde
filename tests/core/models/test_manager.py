"""The slot manager with the real bundled model: in-process, on a managed server, shared slots,
a server that cannot start (the slot fails, the agent still answers), unload and switch."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message
from app.core.models.manager import ModelManager, SlotError, SlotState, SlotStatus
from app.core.providers.base import NoticeChunk, ProviderRequest, TextChunk
from app.core.settings.config import SlotConfig, parse_config

pytestmark = pytest.mark.model

REQ = ProviderRequest(messages=(Message(role="user", content="Say hi."),), max_tokens=6)


async def ask(provider) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    text, notes = [], []
    async for ev in provider.stream(REQ, CancelToken()):
        if isinstance(ev, TextChunk):
            text.append(ev.text)
        elif isinstance(ev, NoticeChunk):
            notes.append(ev.text)
    return "".join(text), notes


async def test_inprocess_slots_share_one_model(model_path: Path, tmp_path: Path) -> None:
    mgr = ModelManager(parse_config("[local.main]\ncontext_size = 1024\n"), log_dir=tmp_path)
    seen: list[SlotStatus] = []
    mgr.add_listener(seen.append)
    progress: list[str] = []
    try:
        await mgr.start_all(progress.append)
        main, rlm, memory = mgr.statuses()
        assert main.state is SlotState.READY and main.mode == "inprocess"
        assert rlm.shared_with == "main" and memory.shared_with == "main"
        assert rlm.state is SlotState.READY and main.context == 1024
        assert mgr.provider("rlm") is mgr.provider("main")
        assert progress == ["main: loading qwen2.5-coder-0.5b-instruct-q4_k_m.gguf in-process"]
        text, _ = await ask(mgr.provider("main"))
        assert text.strip()
        assert mgr.status("main").tok_s is not None and mgr.status("main").tok_s > 0
        assert mgr.status("memory").tok_s == mgr.status("main").tok_s
        assert [s.state for s in seen if s.slot == "main"][:2] == [SlotState.LOADING,
                                                                    SlotState.READY]
    finally:
        await mgr.shutdown()


async def test_server_slot_then_unload(model_path: Path, tmp_path: Path) -> None:
    cfg = parse_config('[local]\nserver_binary = "python"\nthreads = 1\n'
                       '[local.main]\nserve = "server"\ncontext_size = 1024\n')
    mgr = ModelManager(cfg, log_dir=tmp_path)
    try:
        st = await mgr.start("main")
        assert st.state is SlotState.READY and st.mode == "server" and st.port > 0
        text, notes = await ask(mgr.provider("main"))
        # Served by the server itself: no retry, no fallback ("waiting for" only says it is slow).
        assert text.strip() and [n for n in notes if not n.startswith("waiting for")] == []
        assert (tmp_path / "server-main.log").stat().st_size > 0
        await mgr.unload("main")
        assert mgr.status("main").state is SlotState.UNLOADED
    finally:
        await mgr.shutdown()


async def test_server_that_cannot_start_falls_back_in_process(model_path: Path,
                                                               tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        cfg = parse_config(f'[local.main]\nserve = "server"\nport = {port}\ncontext_size = 1024\n')
        mgr = ModelManager(cfg, log_dir=tmp_path)
        try:
            st = await mgr.start("main")
            assert st.state is SlotState.FAILED
            assert f"port {port} is already in use" in st.message
            assert "running in-process instead" in st.message
            text, _ = await ask(mgr.provider("main"))  # the agent still has its model
            assert text.strip()
        finally:
            await mgr.shutdown()


async def test_switch_refuses_bad_paths_and_loads_good_ones(model_path: Path,
                                                             tmp_path: Path) -> None:
    mgr = ModelManager(parse_config("[local.main]\ncontext_size = 1024\n"), log_dir=tmp_path)
    try:
        await mgr.start("main")
        before = mgr.status("rlm")
        with pytest.raises(SlotError, match="cannot switch rlm: model file not found"):
            await mgr.switch("rlm", SlotConfig(path=str(tmp_path / "gone.gguf")))
        assert mgr.status("rlm") == before  # nothing changed
        st = await mgr.switch("rlm", SlotConfig(path=str(model_path), context_size=2048))
        assert st.state is SlotState.READY and st.shared_with == "" and st.context == 2048
        assert mgr.provider("rlm") is not mgr.provider("main")
    finally:
        await mgr.shutdown()


async def test_a_broken_configured_path_runs_the_default_and_says_so(model_path: Path,
                                                                     tmp_path: Path) -> None:
    cfg = parse_config(f"""
[local.main]
context_size = 1024
[local.rlm]
path = "{tmp_path}/missing.gguf"
context_size = 1024
""")
    mgr = ModelManager(cfg, log_dir=tmp_path)
    try:
        await mgr.start_all()
        rlm = mgr.status("rlm")
        assert rlm.state is SlotState.READY and rlm.model == "qwen2.5-coder-0.5b"
        assert "model file not found" in rlm.message and "default model" in rlm.message
        assert rlm.shared_with == "main"
        assert any(n.startswith("rlm: model file not found") for n in mgr.notices)
    finally:
        await mgr.shutdown()
