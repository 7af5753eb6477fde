"""/model and /local against a real stack: the bundled model in-process and an HTTP provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.session import Session, SessionOptions
from app.core.models.commands import (
    ModelCommand,
    ModelCommandError,
    apply_model_command,
    parse_model_command,
    toggle_local,
)
from app.core.models.manager import SlotState
from app.core.providers.stack import build_stack
from app.core.settings.config import parse_config
from tests.servers import sse, sse_server


@pytest.mark.parametrize("args, expected", [
    ("", ModelCommand("pick")),
    ("list", ModelCommand("list")),
    ("unload rlm", ModelCommand("unload", "rlm")),
    ("load memory", ModelCommand("load", "memory")),
    ("qwen2.5-coder-1.5b", ModelCommand("switch", "main", "qwen2.5-coder-1.5b")),
    ("rlm ~/models/n.gguf", ModelCommand("switch", "rlm", "~/models/n.gguf")),
    ("switch memory local", ModelCommand("switch", "memory", "local")),
])
def test_parse(args: str, expected: ModelCommand) -> None:
    assert parse_model_command(args) == expected


@pytest.mark.parametrize("args", ["unload gpu", "load", "a b c"])
def test_parse_errors_show_usage(args: str) -> None:
    with pytest.raises(ModelCommandError, match="usage: /model"):
        parse_model_command(args)


def cloud_config(base: str, extra: str = "") -> str:
    return f"""
[local.main]
context_size = 1024
[providers.cloud]
base_url = "{base}"
api_key_env = "CLOUD_KEY"
models = ["big"]
{extra}"""


def cloud(body):  # type: ignore[no-untyped-def]
    return 200, {}, [sse({"content": "from the cloud"}), "data: [DONE]"]


@pytest.mark.model
async def test_switch_main_to_a_provider_and_local_back_and_forth(model_path: Path,
                                                                   tmp_path: Path) -> None:
    with sse_server(cloud) as (base, seen):
        stack = build_stack(parse_config(cloud_config(base)))
        session = Session(stack.provider, options=SessionOptions(workspace=tmp_path,
                                                                 max_tokens=8))
        try:
            msg = await apply_model_command(parse_model_command("cloud"), stack, session)
            assert msg == "main → cloud:big"
            assert (await session.run_turn("hi")).text == "from the cloud" and len(seen) == 1
            assert await toggle_local(stack, session) == "main → local (qwen2.5-coder-0.5b)"
            out = await session.run_turn("Say hi.")
            assert out.status == "finished" and len(seen) == 1  # answered locally
            assert session.provider.name == "local:main"
            assert await toggle_local(stack, session) == "main → cloud:big (cloud)"
            assert (await session.run_turn("again")).text == "from the cloud"
        finally:
            await stack.aclose()


async def test_bad_targets_change_nothing(tmp_path: Path) -> None:
    with sse_server(cloud) as (base, _):
        stack = build_stack(parse_config(cloud_config(base)))
        session = Session(stack.provider, options=SessionOptions(workspace=tmp_path))
        before = session.provider
        with pytest.raises(ModelCommandError, match="unknown model or provider 'nope'"):
            await apply_model_command(parse_model_command("nope"), stack, session)
        with pytest.raises(ModelCommandError, match=r"the rlm slot runs local models.*\[roles\]"):
            await apply_model_command(parse_model_command("rlm cloud"), stack, session)
        with pytest.raises(ModelCommandError, match="cannot switch memory: model file not found"):
            await apply_model_command(parse_model_command(f"memory {tmp_path}/x.gguf"), stack,
                                      session)
        assert session.provider is before
        await stack.aclose()


async def test_local_without_any_cloud_says_how_to_add_one(tmp_path: Path) -> None:
    stack = build_stack(parse_config(""))
    session = Session(stack.provider, options=SessionOptions(workspace=tmp_path))
    with pytest.raises(ModelCommandError, match=r"no cloud provider configured: add a "
                                                r"\[providers.NAME\]"):
        await toggle_local(stack, session)


@pytest.mark.model
async def test_switch_a_helper_slot_and_unload_it(model_path: Path, tmp_path: Path) -> None:
    stack = build_stack(parse_config("[local.main]\ncontext_size = 1024\n"))
    session = Session(stack.provider, options=SessionOptions(workspace=tmp_path))
    try:
        await apply_model_command(parse_model_command("load main"), stack, session)
        msg = await apply_model_command(parse_model_command(f"rlm {model_path}"), stack, session)
        # The same file at the same context as main: one model serves both slots.
        assert msg == "rlm → qwen2.5-coder-0.5b-instruct-q4_k_m (shares main's model, ready)"
        assert stack.manager.status("rlm").path == str(model_path)
        listing = await apply_model_command(ModelCommand("list"), stack, session)
        assert listing.splitlines()[1].startswith("rlm: qwen2.5-coder-0.5b-instruct-q4_k_m")
        msg = await apply_model_command(parse_model_command("unload rlm"), stack, session)
        assert "rlm unloaded" in msg
        assert stack.manager.status("rlm").state is SlotState.UNLOADED
    finally:
        await stack.aclose()
