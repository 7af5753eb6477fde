"""Providers from names: the provider registry and the resolution of ``--model``.

:class:`ProviderRegistry`: named providers, aliases, roles and fallback chains. ``resolve(name)``
tries, in order: a role (``main``, ``rlm``, ``memory`` or one from ``[roles]``), an alias from
``[aliases]``, ``NAME:MODEL`` or ``NAME/MODEL`` for a known provider, a bare model listed under some
provider's ``models``, then local things (``local``, ``local:SLOT``, an embedded model id, a
``.gguf`` path). ``for_role(role)`` wraps the role's chain in a :class:`FallbackProvider`; without
a ``[fallback]`` entry the chain is the role's target and then the local main slot, so the agent
keeps answering when a cloud endpoint is down.

Zero-config: servers found on 127.0.0.1 ports 8080 (llama.cpp), 1234 (LM Studio) and 11434
(Ollama) and API keys found in the environment become providers without any config.

:func:`build_provider` is the short path for code without the slot manager (``nanobot ask``, a
process's local sampler, ``/model`` in a replay): ``local`` (slot main), a slot name
(``local:rlm``), an embedded model id, a path to a GGUF, or ``NAME`` / ``NAME:MODEL`` for a
configured provider. Both build in-process models with :func:`local_provider` and HTTP ones with
:func:`remote_provider`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.core.models.default_model import default_model_id
from app.core.models.embedded import DEFAULT_MODEL_ID, EmbeddedModelError, catalog, ensure_embedded
from app.core.models.gguf import ModelFileError, check_gguf
from app.core.models.quirks import quirks_by_id, quirks_for_gguf
from app.core.providers.base import Provider
from app.core.providers.fallback import FallbackProvider
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.openai_stream import StreamLimits, limits_from
from app.core.providers.resilience import BreakerBoard, RetryPolicy
from app.core.settings.config import SLOTS, Config, SlotConfig


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
    return Selection(remote_provider(name, pconf.base_url, model_name,
                                     api_key_env=pconf.api_key_env,
                                     context_window=pconf.context_window,
                                     limits=limits_from(config.resilience)))


def remote_provider(name: str, base_url: str, model: str, *, api_key_env: str = "",
                    context_window: int = 0, limits: StreamLimits | None = None
                    ) -> OpenAIHTTPProvider:
    """An OpenAI-compatible endpoint's model (a window of 0: not configured, 32768 assumed;
    ``limits``: first-byte and idle limits from ``[resilience]``)."""
    return OpenAIHTTPProvider(base_url, model, api_key_env=api_key_env, name=name,
                              context_window=context_window or 32768, limits=limits)


# --- the registry -----------------------------------------------------------------------------

LOCAL_PORTS: dict[str, int] = {"llamacpp": 8080, "lmstudio": 1234, "ollama": 11434}

# Providers that appear when their key is in the environment and config does not name them.
ENV_PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openrouter": ("OPENROUTER_API_KEY", "https://openrouter.ai/api/v1", "openrouter/auto"),
    "openai": ("OPENAI_API_KEY", "https://api.openai.com/v1", "gpt-4.1-mini"),
    "groq": ("GROQ_API_KEY", "https://api.groq.com/openai/v1", "llama-3.3-70b-versatile"),
    "deepseek": ("DEEPSEEK_API_KEY", "https://api.deepseek.com/v1", "deepseek-chat"),
}


@dataclass(frozen=True)
class Endpoint:
    """A provider the registry knows: from config, the environment, or a probe."""

    name: str
    base_url: str
    api_key_env: str = ""
    models: tuple[str, ...] = ()
    context_window: int = 0
    origin: str = "config"  # "config", "env", "probe"


@dataclass(frozen=True)
class Target:
    kind: str  # "local" (a slot), "remote", "embedded", "gguf"
    ref: str  # canonical: "local:main", "openai:gpt-4.1-mini", "embedded:ID", a path
    name: str  # the provider name shown to the user
    model: str = ""
    slot: str = ""


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    fix: str


@dataclass(frozen=True)
class Discovered:
    name: str
    base_url: str
    models: tuple[str, ...] = field(default_factory=tuple)


async def probe_local_servers(ports: dict[str, int] | None = None, *, host: str = "127.0.0.1",
                              per_port_s: float = 0.5) -> list[Discovered]:
    """GET /v1/models on the usual local ports; what answers is a usable provider."""
    ports = LOCAL_PORTS if ports is None else ports

    async def one(client: httpx.AsyncClient, name: str, port: int) -> Discovered | None:
        base = f"http://{host}:{port}/v1"
        try:
            resp = await client.get(f"{base}/models")
            if resp.status_code != 200:
                return None
            data = resp.json().get("data") or []
            ids = tuple(str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id"))
            return Discovered(name, base, ids)
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    async with httpx.AsyncClient(timeout=per_port_s) as client:
        found = await asyncio.gather(*(one(client, n, p) for n, p in ports.items()))
    return [d for d in found if d is not None]


def probe_local_servers_sync(ports: dict[str, int] | None = None, *, host: str = "127.0.0.1",
                             per_port_s: float = 0.3) -> list[Discovered]:
    """The same probe for synchronous start-up code (a refused port answers at once)."""
    out: list[Discovered] = []
    with httpx.Client(timeout=per_port_s) as client:
        for name, port in (LOCAL_PORTS if ports is None else ports).items():
            base = f"http://{host}:{port}/v1"
            try:
                resp = client.get(f"{base}/models")
                data = (resp.json().get("data") or []) if resp.status_code == 200 else None
            except (httpx.HTTPError, ValueError, AttributeError):
                continue
            if data is not None:
                ids = tuple(str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id"))
                out.append(Discovered(name, base, ids))
    return out


LocalFactory = Callable[[str], Provider]


class ProviderRegistry:
    def __init__(self, config: Config, *, discovered: Iterable[Discovered] = (),
                 local_factory: LocalFactory | None = None,
                 breakers: BreakerBoard | None = None, env: dict[str, str] | None = None) -> None:
        self.config = config
        env = dict(os.environ) if env is None else env
        self.endpoints: dict[str, Endpoint] = {
            name: Endpoint(name, p.base_url, p.api_key_env, p.models, p.context_window)
            for name, p in config.providers.items()}
        for name, (var, url, model) in ENV_PROVIDERS.items():
            if name not in self.endpoints and env.get(var):
                self.endpoints[name] = Endpoint(name, url, var, (model,), origin="env")
        for d in discovered:
            if d.name not in self.endpoints and all(
                    e.base_url.rstrip("/") != d.base_url for e in self.endpoints.values()):
                self.endpoints[d.name] = Endpoint(d.name, d.base_url, "", d.models,
                                                  origin="probe")
        res = config.resilience
        self.breakers = breakers or BreakerBoard(threshold=res.breaker_threshold,
                                                 cooldown=res.breaker_cooldown)
        self.policy = RetryPolicy(max_retries=res.max_retries, base_delay=res.base_delay,
                                  max_delay=res.max_delay)
        self._local_factory = local_factory or self._inprocess
        self._cache: dict[str, Provider] = {}
        self.notices: list[str] = []

    # --- names -------------------------------------------------------------------------------

    @property
    def roles(self) -> list[str]:
        return list(dict.fromkeys([*SLOTS, *self.config.roles, *self.config.fallback]))

    def role_target(self, role: str) -> str:
        if role in self.config.roles:
            return self.config.roles[role]
        if role == "main":
            agent = self.config.agent
            if agent.provider != "local" and agent.model:
                return f"{agent.provider}:{agent.model}"
            return agent.provider
        if role in SLOTS:
            return f"local:{role}"
        if self.config.fallback.get(role):
            return self.config.fallback[role][0]
        raise ProviderSetupError(f"unknown role {role!r}; roles: {', '.join(self.roles)}")

    def known_names(self) -> list[str]:
        return [*self.roles, *self.config.aliases, *self.endpoints, "local",
                *(f"local:{s}" for s in SLOTS), *catalog()]

    def resolve(self, name: str, *, _seen: tuple[str, ...] = ()) -> Target:
        name = name.strip()
        if not name:
            raise ProviderSetupError("empty model or provider name")
        if name in _seen:
            raise ProviderSetupError("alias/role loop: " + " → ".join([*_seen, name]))
        seen = (*_seen, name)
        if name in self.roles and name not in self.endpoints and name not in self.config.aliases:
            return self.resolve(self.role_target(name), _seen=seen)
        if name in self.config.aliases:
            return self.resolve(self.config.aliases[name], _seen=seen)
        if name == "local" or name.startswith("local:"):
            slot = name.split(":", 1)[1] if ":" in name else "main"
            if slot not in SLOTS:
                raise ProviderSetupError(f"unknown local slot {slot!r}; use main, rlm or memory")
            return Target("local", f"local:{slot}", f"local:{slot}", slot=slot)
        for sep in (":", "/"):
            head, _, rest = name.partition(sep)
            if head in self.endpoints:
                ep = self.endpoints[head]
                model = rest or (ep.models[0] if ep.models else "")
                if not model:
                    raise ProviderSetupError(
                        f"provider {head!r} has no models configured; set providers.{head}.models "
                        f"or use {head}:MODEL")
                return Target("remote", f"{head}:{model}", head, model)
        for ep in self.endpoints.values():
            if name in ep.models:
                return Target("remote", f"{ep.name}:{name}", ep.name, name)
        if name in catalog():
            return Target("embedded", f"embedded:{name}", f"local ({name})", name)
        if name.startswith("embedded:") and name[9:] in catalog():
            return Target("embedded", name, f"local ({name[9:]})", name[9:])
        if name.endswith(".gguf") or ("/" in name and Path(name).expanduser().exists()):
            return Target("gguf", str(Path(name).expanduser()), f"local ({Path(name).name})",
                          Path(name).stem)
        raise ProviderSetupError(f"unknown model or provider {name!r}; known: "
                                 + ", ".join(dict.fromkeys(self.known_names())))

    def chain_targets(self, role: str) -> list[Target]:
        refs = list(self.config.fallback.get(role, ()))
        if not refs:
            refs = [role]
            primary = self.resolve(role)
            if primary.kind == "remote":
                refs.append("local:main")  # the agent never dies because one endpoint did
        out: list[Target] = []
        for ref in refs:
            t = self.resolve(ref)
            if all(t.ref != o.ref for o in out):
                out.append(t)
        return out

    # --- providers ---------------------------------------------------------------------------

    def _inprocess(self, slot: str) -> Provider:
        sel = local_provider(self.config.local.slot(slot), threads=self.config.local.threads,
                             label="")
        self.notices.extend(sel.notices)
        provider = sel.provider
        provider.name = f"local:{slot}"
        return provider

    def provider(self, target: Target) -> Provider:
        if target.ref in self._cache:
            return self._cache[target.ref]
        provider: Provider
        if target.kind == "local":
            provider = self._local_factory(target.slot)
        elif target.kind == "remote":
            ep = self.endpoints[target.name]
            provider = remote_provider(target.name, ep.base_url, target.model,
                                       api_key_env=ep.api_key_env,
                                       context_window=ep.context_window,
                                       limits=limits_from(self.config.resilience))
        else:
            main = self.config.local.main
            slot = SlotConfig(model=target.model if target.kind == "embedded" else "",
                              path=target.ref if target.kind == "gguf" else "",
                              context_size=main.context_size, temperature=main.temperature)
            sel = local_provider(slot, threads=self.config.local.threads)
            self.notices.extend(sel.notices)
            provider = sel.provider
        self._cache[target.ref] = provider
        return provider

    def for_role(self, role: str) -> FallbackProvider:
        chain: list[Provider] = []
        for i, target in enumerate(self.chain_targets(role)):
            try:
                chain.append(self.provider(target))
            except (ProviderSetupError, EmbeddedModelError, ModelFileError) as exc:
                if i == 0:
                    raise
                # A broken fallback must not stop the primary from working: say so, go on.
                self.notices.append(f"fallback {target.ref} for {role} is unavailable: {exc}")
        return FallbackProvider(chain, role=role, breakers=self.breakers, policy=self.policy)

    def for_name(self, name: str) -> FallbackProvider:
        """A role, alias or provider reference, with the same retry/breaker behaviour."""
        if name in self.roles:
            return self.for_role(name)
        target = self.resolve(name)
        return FallbackProvider([self.provider(target)], role=name, breakers=self.breakers,
                                policy=self.policy)

    def forget(self, ref_prefix: str) -> None:
        """Drop cached providers (after a slot is switched or unloaded)."""
        for ref in [r for r in self._cache if r.startswith(ref_prefix)]:
            del self._cache[ref]

    # --- checks ------------------------------------------------------------------------------

    def check(self, env: dict[str, str] | None = None) -> list[Problem]:
        """Config problems, each with a concrete fix (used by ``config check`` and doctor)."""
        env = dict(os.environ) if env is None else env
        problems: list[Problem] = []
        for role in self.roles:
            try:
                self.chain_targets(role)
            except ProviderSetupError as exc:
                key = f"fallback.{role}" if role in self.config.fallback else f"roles.{role}"
                problems.append(Problem(key, str(exc), "use one of: " + ", ".join(
                    dict.fromkeys(self.known_names()))[:300]))
        for alias, ref in self.config.aliases.items():
            try:
                self.resolve(ref)
            except ProviderSetupError as exc:
                problems.append(Problem(f"aliases.{alias}", str(exc),
                                        "point the alias at NAME:MODEL of a configured provider"))
        for name, ep in self.endpoints.items():
            if ep.origin == "config" and ep.api_key_env and not env.get(ep.api_key_env):
                problems.append(Problem(
                    f"providers.{name}.api_key_env",
                    f"{ep.api_key_env} is not set, so {name} will answer 401",
                    f"export {ep.api_key_env}=... in your shell (the key never goes in the "
                    f"config file)"))
        for slot in SLOTS:
            s: SlotConfig = getattr(self.config.local, slot)
            if s.path and not Path(s.path).expanduser().is_file():
                problems.append(Problem(f"local.{slot}.path", f"{s.path} does not exist",
                                        "fix the path, run `nanobot setup` to download a model, "
                                        "or delete the line to use the default model"))
        return problems
