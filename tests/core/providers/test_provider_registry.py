"""The provider registry: names, aliases, roles, chains, zero-config discovery and checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.providers.fallback import FallbackProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.registry import ProviderRegistry, ProviderSetupError, probe_local_servers
from app.core.providers.scripted import ScriptedProvider
from app.core.settings.config import parse_config
from tests.file_server import file_server
from tests.servers import free_port

CONFIG = """
[agent]
provider = "openai"
model = "gpt-4.1-mini"

[providers.openai]
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
models = ["gpt-4.1-mini", "gpt-4.1"]

[providers.router]
base_url = "https://openrouter.ai/api/v1"
api_key_env = "OPENROUTER_API_KEY"
models = ["meta-llama/llama-3.1-8b-instruct:free"]

[aliases]
fast = "router:meta-llama/llama-3.1-8b-instruct:free"
smart = "openai:gpt-4.1"
loop = "loop2"
loop2 = "loop"

[roles]
reasoning = "smart"
compaction = "local:memory"

[fallback]
rlm = ["fast", "local:rlm", "local"]
"""


def registry(text: str = CONFIG, **kw: object) -> ProviderRegistry:
    scripted = {}

    def local(slot: str) -> ScriptedProvider:
        return scripted.setdefault(slot, ScriptedProvider(model=f"slot-{slot}"))

    return ProviderRegistry(parse_config(text), local_factory=local, env={}, **kw)  # type: ignore[arg-type]


def test_resolution_order() -> None:
    reg = registry()
    assert reg.resolve("main").ref == "openai:gpt-4.1-mini"  # role → agent.provider:model
    assert reg.resolve("reasoning").ref == "openai:gpt-4.1"  # role → alias → provider:model
    assert reg.resolve("fast").ref == "router:meta-llama/llama-3.1-8b-instruct:free"
    assert reg.resolve("openai/gpt-4.1").ref == "openai:gpt-4.1"
    assert reg.resolve("gpt-4.1").ref == "openai:gpt-4.1"  # a bare model from a models list
    assert reg.resolve("openai").ref == "openai:gpt-4.1-mini"  # the provider's first model
    assert reg.resolve("compaction").ref == "local:memory"
    assert reg.resolve("local").ref == "local:main" and reg.resolve("rlm").ref == "local:rlm"
    assert reg.resolve("qwen2.5-coder-0.5b").kind == "embedded"
    assert reg.resolve("~/m/x.gguf").kind == "gguf"


def test_unknown_names_and_loops_are_explained() -> None:
    reg = registry()
    with pytest.raises(ProviderSetupError, match=r"unknown model or provider 'nope'; known: "
                                                 r".*reasoning.*fast.*openai"):
        reg.resolve("nope")
    with pytest.raises(ProviderSetupError, match="alias/role loop: loop → loop2 → loop"):
        reg.resolve("loop")
    with pytest.raises(ProviderSetupError, match="unknown local slot 'gpu'"):
        reg.resolve("local:gpu")


def test_chains() -> None:
    reg = registry()
    assert [t.ref for t in reg.chain_targets("main")] == ["openai:gpt-4.1-mini", "local:main"]
    assert [t.ref for t in reg.chain_targets("rlm")] == [
        "router:meta-llama/llama-3.1-8b-instruct:free", "local:rlm", "local:main"]
    assert [t.ref for t in reg.chain_targets("memory")] == ["local:memory"]
    fb = reg.for_role("rlm")
    assert isinstance(fb, FallbackProvider) and len(fb.chain) == 3
    assert isinstance(fb.chain[0], OpenAIHTTPProvider) and fb.chain[0].name == "router"
    assert fb.chain[1].model == "slot-rlm"
    assert reg.for_role("rlm").chain[0] is fb.chain[0]  # providers are cached, breakers shared


def test_local_only_config_has_a_one_link_chain() -> None:
    reg = registry("")
    assert [t.ref for t in reg.chain_targets("main")] == ["local:main"]


def test_env_keys_become_providers() -> None:
    reg = ProviderRegistry(parse_config(""), env={"OPENROUTER_API_KEY": "sk-or-xxxxxxxx"},
                           local_factory=lambda s: ScriptedProvider())
    assert reg.endpoints["openrouter"].origin == "env"
    assert reg.resolve("openrouter").ref == "openrouter:openrouter/auto"
    assert "openai" not in reg.endpoints


async def test_probe_finds_a_server_and_ignores_closed_ports() -> None:
    with file_server() as host:
        host.add("v1/models", json.dumps({"data": [{"id": "qwen"}, {"id": "llama"}]}).encode())
        port = int(host.base.rsplit(":", 1)[1])
        found = await probe_local_servers({"llamacpp": port, "ollama": free_port()})
    assert [(d.name, d.models) for d in found] == [("llamacpp", ("qwen", "llama"))]
    reg = ProviderRegistry(parse_config(""), discovered=found, env={},
                           local_factory=lambda s: ScriptedProvider())
    assert reg.endpoints["llamacpp"].origin == "probe"
    assert reg.resolve("llama").ref == "llamacpp:llama"


def test_check_names_each_problem_with_a_fix(tmp_path: Path) -> None:
    text = CONFIG + f"""
[local.rlm]
path = "{tmp_path}/missing.gguf"
"""
    text = text.replace('fast = "router:', 'fast = "nowhere:')
    problems = {p.key: p for p in registry(text).check(env={"OPENAI_API_KEY": "sk-real-key-1"})}
    assert "OPENROUTER_API_KEY is not set" in problems["providers.router.api_key_env"].message
    assert problems["providers.router.api_key_env"].fix.startswith("export OPENROUTER_API_KEY=")
    assert "providers.openai.api_key_env" not in problems
    assert "missing.gguf does not exist" in problems["local.rlm.path"].message
    assert "nanobot setup" in problems["local.rlm.path"].fix
    assert "aliases.fast" in problems and "aliases.loop" in problems
    assert "fallback.rlm" in problems  # its first link is the broken alias


def test_sync_probe_for_start_up() -> None:
    from app.core.providers.registry import probe_local_servers_sync

    with file_server() as host:
        host.add("v1/models", json.dumps({"data": [{"id": "m1"}]}).encode())
        port = int(host.base.rsplit(":", 1)[1])
        found = probe_local_servers_sync({"lmstudio": port, "ollama": free_port()})
    assert [(d.name, d.models) for d in found] == [("lmstudio", ("m1",))]
