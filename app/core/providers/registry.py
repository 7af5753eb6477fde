"""Turn configuration into a provider.

``--model`` / ``agent.provider`` accept: ``local`` (slot main), a slot name (``local:rlm``), an
embedded model id, a path to a GGUF, or ``NAME`` / ``NAME:MODEL`` for a configured provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.models.default_model import default_model_id
from app.core.models.embedded import DEFAULT_MODEL_ID, catalog, ensure_embedded
from app.core.models.gguf import ModelFileError, check_gguf
from app.core.models.quirks import quirks_by_id, quirks_for_gguf
from app.core.providers.base import Provider
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.openai_stream import limits_from
from app.core.settings.config import Config, SlotConfig


class ProviderSetupError(Exception):
    pass


@dataclass
class Selection:
    provider: Provider
    notices: list[str] = field(default_factory=list)


def local_provider(slot: SlotConfig, *, threads: int = 0, label: str = "") -> Selection:
    """An in-process provider for a slot; a broken GGUF path falls back to the default model."""
    notices: list[str] = []
    embedded = catalog()
    path: Path | None = None
    caps = embedded[DEFAULT_MODEL_ID].capabilities
    model_id = slot.model or default_model_id()
    if slot.path:
        try:
            path = check_gguf(slot.path)
            caps = {}
        except ModelFileError as exc:
            notices.append(f"{exc}; using the default model {embedded[DEFAULT_MODEL_ID].title}")
            model_id = DEFAULT_MODEL_ID
    elif model_id not in embedded:
        notices.append(f"unknown model {model_id!r}; using the default model")
        model_id = DEFAULT_MODEL_ID
    if path is None:
        path = ensure_embedded(model_id)
        caps = embedded[model_id].capabilities
        label = label or model_id
        quirks = quirks_by_id(model_id)
    else:  # a GGUF by path: its quirks come from the catalog, matched on its metadata
        quirks = quirks_for_gguf(path)
    provider = LlamaInProcessProvider(
        path, n_ctx=slot.context_size, n_threads=threads, n_gpu_layers=slot.gpu_layers,
        temperature=slot.temperature, label=label,
        grammar_tool_calls=bool(caps.get("grammar_tool_calls", True)),
        supports_thinking=bool(caps.get("supports_thinking", False)),
        tool_nudge=bool(caps.get("tool_nudge", False)), quirks=quirks,
        lora_path=slot.lora or None, lora_scale=slot.lora_scale)
    return Selection(provider, notices)


def build_provider(config: Config, model: str | None = None) -> Selection:
    choice = (model or "").strip()
    if not choice:
        choice = config.agent.provider
        if choice != "local" and config.agent.model:
            choice = f"{choice}:{config.agent.model}"
    if choice == "local" or choice.startswith("local:"):
        slot = choice.split(":", 1)[1] if ":" in choice else "main"
        if slot not in ("main", "rlm", "memory"):
            raise ProviderSetupError(f"unknown local slot {slot!r}; use main, rlm or memory")
        return local_provider(config.local.slot(slot), threads=config.local.threads)
    if choice in catalog():
        return local_provider(SlotConfig(model=choice, context_size=config.local.main.context_size,
                                         temperature=config.local.main.temperature),
                              threads=config.local.threads)
    if choice.endswith(".gguf") or ("/" in choice and Path(choice).expanduser().exists()):
        return local_provider(SlotConfig(path=choice,
                                         context_size=config.local.main.context_size,
                                         temperature=config.local.main.temperature),
                              threads=config.local.threads)
    name, _, model_name = choice.partition(":")
    pconf = config.providers.get(name)
    if pconf is None:
        known = ", ".join(["local", *config.providers, *catalog()])
        raise ProviderSetupError(f"unknown model or provider {choice!r}; known: {known}")
    model_name = model_name or (pconf.models[0] if pconf.models else "")
    if not model_name:
        raise ProviderSetupError(f"provider {name!r} has no models configured; "
                                 f"set providers.{name}.models or use {name}:MODEL")
    return Selection(OpenAIHTTPProvider(
        pconf.base_url, model_name, api_key_env=pconf.api_key_env, name=name,
        context_window=pconf.context_window or 32768, limits=limits_from(config.resilience)))
