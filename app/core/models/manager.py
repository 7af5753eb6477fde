"""The slot manager: ``main``, ``rlm`` and ``memory``, in-process or on managed servers.

Each slot's config names a model (embedded id or GGUF path), a context size and ``serve``
(``inprocess`` or ``server``). Slots with the same model, context and mode share one provider
or one server. At most ``local.max_servers`` servers run at once. A server slot's provider is a
chain: the server first, then the same model in-process (loaded only if needed), so a server that
fails to start or crashes never leaves the agent without a model; the slot shows ``failed`` with
the server's message and log tail.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.models.default_model import default_model_id
from app.core.models.embedded import EmbeddedModelError, catalog
from app.core.models.gguf import ModelFileError, check_gguf
from app.core.models.metered import MeteredProvider
from app.core.models.server import ManagedServer, ServerSpec, ServerStartError, ServerState, ServerStatus
from app.core.providers.base import Capabilities, Provider, ProviderEvent, ProviderRequest
from app.core.providers.fallback import FallbackProvider
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.providers.openai_stream import limits_from
from app.core.providers.registry import local_provider
from app.core.settings.config import SLOTS, Config, SlotConfig
from app.core.settings.paths import get_paths

log = logging.getLogger(__name__)


# What makes two slots share one provider or server: model path, context, mode, GPU layers,
# LoRA adapter and its scale.
SlotKey = tuple[str, int, str, int, str, float]


class SlotState(Enum):
    IDLE = "idle"  # configured, not loaded yet (in-process models load on first use)
    LOADING = "loading"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"
    UNLOADED = "unloaded"


@dataclass(frozen=True)
class SlotStatus:
    slot: str
    model: str
    path: str
    mode: str  # "inprocess" or "server"
    state: SlotState
    context: int = 0
    port: int = 0
    message: str = ""
    log_tail: str = ""
    tok_s: float | None = None
    shared_with: str = ""
    restarts: int = 0


@dataclass
class _Loaded:
    key: SlotKey
    path: Path
    label: str
    slot_config: SlotConfig
    inprocess: LlamaInProcessProvider | None = None
    server: ManagedServer | None = None
    provider: Provider | None = None
    started: bool = False


Listener = Callable[[SlotStatus], None]
Progress = Callable[[str], None]


class SlotError(Exception):
    pass


class ModelManager:
    def __init__(self, config: Config, *, log_dir: Path | None = None,
                 start_timeout: float = 120.0) -> None:
        self.config = config
        self.log_dir = log_dir or (get_paths().state_dir / "servers")
        self.start_timeout = start_timeout
        self._slot_cfg: dict[str, SlotConfig] = {s: config.local.slot(s) for s in SLOTS}
        self._loaded: dict[SlotKey, _Loaded] = {}
        self._slot_key: dict[str, SlotKey] = {}
        self._status: dict[str, SlotStatus] = {}
        self._listeners: list[Listener] = []
        self.notices: list[str] = []  # for the conversation at start-up (bad paths etc.)
        for s in SLOTS:
            cfg = self._slot_cfg[s]
            # An empty rlm/memory slot runs main's model: say so before anything loads.
            shared = "main" if s != "main" and getattr(config.local, s).empty else ""
            self._status[s] = SlotStatus(s, cfg.model or cfg.path or default_model_id(),
                                         cfg.path, cfg.serve, SlotState.IDLE,
                                         context=cfg.context_size, shared_with=shared)

    # --- observing ---------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def slot_config(self, slot: str) -> SlotConfig:
        return self._slot_cfg[slot]

    def status(self, slot: str) -> SlotStatus:
        return self._status[slot]

    def statuses(self) -> tuple[SlotStatus, ...]:
        return tuple(self._status[s] for s in SLOTS)

    def _update(self, slot: str, **changes: Any) -> None:
        self._status[slot] = dataclasses.replace(self._status[slot], **changes)
        for listener in list(self._listeners):
            try:
                listener(self._status[slot])
            except Exception:
                log.exception("slot listener failed")

    def _slots_on(self, key: SlotKey) -> list[str]:
        return [s for s, k in self._slot_key.items() if k == key]

    # --- resolving ---------------------------------------------------------------------------

    def _make(self, slot: str, cfg: SlotConfig) -> LlamaInProcessProvider:
        """The slot's model as an (unloaded) in-process provider, built like every local model
        (``local_provider``: embedded capabilities, a broken path falls back to the default)."""
        sel = local_provider(cfg, threads=self.config.local.threads)
        for note in sel.notices:
            self.notices.append(f"{slot}: {note}")
        provider = sel.provider
        if not isinstance(provider, LlamaInProcessProvider):
            raise SlotError(f"{slot}: not a local model")
        provider.name = "local"
        return provider

    def _key(self, path: Path, cfg: SlotConfig) -> SlotKey:
        return (str(path), cfg.context_size, cfg.serve, cfg.gpu_layers, cfg.lora,
                cfg.lora_scale if cfg.lora else 1.0)

    # --- loading -----------------------------------------------------------------------------

    async def start(self, slot: str, progress: Progress | None = None) -> SlotStatus:
        """Load (in-process) or start (server) the slot's model; failures mark the slot failed."""
        if slot not in SLOTS:
            raise SlotError(f"unknown slot {slot!r}; use main, rlm or memory")
        cfg = self._slot_cfg[slot]
        try:
            made = self._make(slot, cfg)
        except (ModelFileError, SlotError, EmbeddedModelError) as exc:
            self._update(slot, state=SlotState.FAILED, message=str(exc))
            return self._status[slot]
        path, label = made.path, made.model
        warning = "; ".join(n for n in self.notices if n.startswith(f"{slot}: "))
        key = self._key(path, cfg)
        loaded = self._loaded.get(key)
        if loaded is not None and loaded.started:
            sharer = next((s for s in self._slots_on(key) if s != slot), "")
            self._slot_key[slot] = key
            base = self._status[sharer] if sharer else self._status[slot]
            self._update(slot, model=label, path=str(path), mode=cfg.serve,
                         state=base.state, port=base.port, context=cfg.context_size,
                         shared_with=sharer, message=warning or base.message)
            return self._status[slot]
        if loaded is None:  # (else: created lazily by provider() and not loaded yet)
            loaded = _Loaded(key, path, label, cfg, inprocess=made)
            self._loaded[key] = loaded
        loaded.started = True
        self._slot_key[slot] = key
        for s in self._slots_on(key):
            self._update(s, model=label, path=str(path), mode=cfg.serve, state=SlotState.LOADING,
                         context=cfg.context_size, message=warning, log_tail="",
                         shared_with="" if s == slot else slot)
        if cfg.serve == "server":
            await self._start_server(slot, loaded, progress)
        else:
            await self._load_inprocess(slot, loaded, progress)
        return self._status[slot]

    def _inprocess_for(self, loaded: _Loaded) -> LlamaInProcessProvider:
        if loaded.inprocess is None:
            loaded.inprocess = self._make(loaded.label, loaded.slot_config)
        return loaded.inprocess

    async def _load_inprocess(self, slot: str, loaded: _Loaded, progress: Progress | None) -> None:
        provider = self._inprocess_for(loaded)
        if progress:
            progress(f"{slot}: loading {loaded.path.name} in-process")
        try:
            await provider.load()
        except Exception as exc:
            for s in self._slots_on(loaded.key):
                self._update(s, state=SlotState.FAILED, message=f"{type(exc).__name__}: {exc}")
            return
        for s in self._slots_on(loaded.key):
            note = self._status[s].message
            self._update(s, state=SlotState.READY, message=note or "loaded in-process")

    async def _start_server(self, slot: str, loaded: _Loaded, progress: Progress | None) -> None:
        running = [ld for ld in self._loaded.values() if ld.server is not None]
        if len(running) >= self.config.local.max_servers:
            self._update(slot, state=SlotState.FAILED, mode="inprocess",
                         message=f"already {len(running)} servers running (local.max_servers); "
                                 f"{slot} runs in-process instead")
            return
        cfg = loaded.slot_config
        spec = ServerSpec(model_path=loaded.path, context=cfg.context_size,
                          threads=self.config.local.threads, gpu_layers=cfg.gpu_layers,
                          port=cfg.port, alias=loaded.label, binary=self.config.local.server_binary,
                          lora=cfg.lora, lora_scale=cfg.lora_scale)
        server = ManagedServer(slot, spec, log_dir=self.log_dir,
                               start_timeout=self.start_timeout)
        loaded.server = server
        server.add_listener(lambda st: self._on_server(loaded.key, st))
        try:
            await server.start(progress)
        except ServerStartError as exc:
            loaded.server = None
            for s in self._slots_on(loaded.key) or [slot]:
                self._update(s, state=SlotState.FAILED, message=exc.short + "; running in-process "
                             "instead", log_tail=exc.log_tail)

    def _on_server(self, key: SlotKey, st: ServerStatus) -> None:
        state = {ServerState.READY: SlotState.READY, ServerState.STARTING: SlotState.LOADING,
                 ServerState.RESTARTING: SlotState.RESTARTING, ServerState.FAILED: SlotState.FAILED,
                 ServerState.STOPPED: SlotState.UNLOADED}[st.state]
        for slot in self._slots_on(key):
            self._update(slot, state=state, port=st.port, message=st.message,
                         log_tail=st.log_tail, restarts=st.restarts)

    async def start_all(self, progress: Progress | None = None) -> tuple[SlotStatus, ...]:
        for slot in SLOTS:
            await self.start(slot, progress)
        return self.statuses()

    # --- providers ---------------------------------------------------------------------------

    def provider(self, slot: str) -> Provider:
        """The slot's provider (the registry's ``local_factory``); in-process models that were
        not started load lazily on first use."""
        key = self._slot_key.get(slot)
        if key is None:
            cfg = self._slot_cfg[slot]
            made = self._make(slot, cfg)
            key = self._key(made.path, cfg)
            if key not in self._loaded:
                self._loaded[key] = _Loaded(key, made.path, made.model, cfg, inprocess=made)
            self._slot_key[slot] = key
            sharer = next((s for s in self._slots_on(key) if s != slot), "")
            self._update(slot, model=made.model, path=str(made.path), shared_with=sharer)
        loaded = self._loaded[key]
        if loaded.provider is None:
            # Named after the first slot using it: breakers and notices say "local:main".
            loaded.provider = MeteredProvider(_SlotProvider(self, loaded, slot),
                                              lambda v: self._speed(loaded.key, v),
                                              name=f"local:{slot}")
        provider: Provider = loaded.provider
        return provider

    def _speed(self, key: SlotKey, tok_s: float) -> None:
        for slot in self._slots_on(key):
            changes: dict[str, Any] = {"tok_s": round(tok_s, 1)}
            if self._status[slot].state is SlotState.IDLE:
                changes["state"] = SlotState.READY  # a lazily loaded in-process model
            self._update(slot, **changes)

    # --- changing ----------------------------------------------------------------------------

    async def unload(self, slot: str) -> None:
        key = self._slot_key.pop(slot, None)
        if key is not None and not self._slots_on(key):
            loaded = self._loaded.pop(key)
            await self._release(loaded)
        self._update(slot, state=SlotState.UNLOADED, tok_s=None, port=0, shared_with="",
                     message="unloaded")

    async def _release(self, loaded: _Loaded) -> None:
        if loaded.server is not None:
            await loaded.server.stop()
        if loaded.inprocess is not None:
            await loaded.inprocess.aclose()

    async def switch(self, slot: str, cfg: SlotConfig,
                     progress: Progress | None = None) -> SlotStatus:
        """Point ``slot`` at another model (or mode) and load it. A path that is not a usable
        GGUF is refused before anything changes."""
        if cfg.path:
            try:
                check_gguf(cfg.path)
            except ModelFileError as exc:
                raise SlotError(f"cannot switch {slot}: {exc}") from exc
        elif cfg.model and cfg.model not in catalog():
            raise SlotError(f"cannot switch {slot}: unknown model {cfg.model!r}; known: "
                            f"{', '.join(catalog())}")
        await self.unload(slot)
        self._slot_cfg[slot] = cfg
        return await self.start(slot, progress)

    async def set_lora(self, slot: str, path: str, scale: float = 1.0,
                       progress: Progress | None = None) -> tuple[str, bool]:
        """Put LoRA adapter ``path`` ("" = none) on ``slot`` at ``scale``. An in-process model
        switches in place; a managed server changes the scale of the adapter it was started
        with in place (llama-server), else it restarts with the new adapter. Returns what
        happened, for the user, and whether the model was loaded anew; raises
        :class:`SlotError` and changes nothing when it cannot work."""
        from app.core.models.lora import AdapterError, check_adapter

        cfg = self._slot_cfg[slot]
        if path:
            try:
                check_adapter(path)
            except AdapterError as exc:
                raise SlotError(str(exc)) from exc
        new = dataclasses.replace(cfg, lora=path, lora_scale=scale)
        key = self._slot_key.get(slot)
        loaded = self._loaded.get(key) if key is not None else None
        shared = [s for s in self._slots_on(key) if s != slot] if key is not None else []
        what = f"LoRA {Path(path).name} at scale {scale:g}" if path else "no LoRA adapter"
        if loaded is None or shared:
            # Not running yet, or its model is shared with another slot: give it its own.
            if loaded is not None:
                await self.switch(slot, new, progress)
                return f"{slot}: {what} (its own model now; loaded with the adapter)", True
            self._slot_cfg[slot] = new
            return f"{slot}: {what} (applied when the model loads)", False
        if loaded.server is not None:
            server_path = loaded.server.spec.lora
            if path and path == server_path and await loaded.server.set_lora_scale(scale):
                self._rekey(slot, loaded, new)
                return f"{slot}: {what} (changed on the running server)", False
            await self.switch(slot, new, progress)
            return f"{slot}: {what} (the server restarted with it)", True
        provider = self._inprocess_for(loaded)
        try:
            await provider.set_lora(path or None, scale)
        except Exception as exc:
            raise SlotError(f"{slot}: {exc}") from exc
        self._rekey(slot, loaded, new)
        return f"{slot}: {what} (switched in place, no reload)", False

    def _rekey(self, slot: str, loaded: _Loaded, cfg: SlotConfig) -> None:
        """The slot's model now runs with ``cfg``'s adapter: file it under its new key."""
        old = loaded.key
        loaded.key = self._key(loaded.path, cfg)
        loaded.slot_config = cfg
        self._loaded.pop(old, None)
        self._loaded[loaded.key] = loaded
        self._slot_key[slot] = loaded.key
        self._slot_cfg[slot] = cfg
        self._update(slot, message=f"LoRA {Path(cfg.lora).name} x{cfg.lora_scale:g}"
                     if cfg.lora else "no LoRA adapter")

    async def shutdown(self) -> None:
        for loaded in list(self._loaded.values()):
            await self._release(loaded)
        self._loaded.clear()
        self._slot_key.clear()


class _SlotProvider:
    """The slot's model wherever it runs now: its managed server first (falling back to the
    same model in-process), or in-process. Looked up per reply, so a server started after the
    session was built is used from the next reply on."""

    def __init__(self, manager: ModelManager, loaded: _Loaded, slot: str) -> None:
        self._manager = manager
        self._loaded = loaded
        self._slot = slot
        self._chain: FallbackProvider | None = None
        self._chain_for: ManagedServer | None = None
        self._sync(self._current())

    def _current(self) -> Provider:
        ld = self._loaded
        inprocess = self._manager._inprocess_for(ld)
        if ld.server is None:
            return inprocess
        if self._chain is None or self._chain_for is not ld.server:
            http = OpenAIHTTPProvider(ld.server.base_url, ld.label,
                                      name=f"local:{self._slot} server",
                                      context_window=ld.slot_config.context_size,
                                      limits=limits_from(self._manager.config.resilience))
            self._chain = FallbackProvider([http, inprocess], role=self._slot)
            self._chain_for = ld.server
        return self._chain

    def _sync(self, p: Provider) -> None:
        self.name: str = p.name
        self.model: str = p.model
        self.capabilities: Capabilities = p.capabilities

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        p = self._current()
        self._sync(p)
        async for ev in p.stream(request, cancel):
            yield ev
        self._sync(p)

    async def aclose(self) -> None:
        if self._chain is not None:
            await self._chain.chain[0].aclose()
