"""Assemble what the session talks to: slot manager → registry → fallback chains → router.

``--model X`` picks one target (with retries, no routing). Otherwise the router, when enabled,
chooses per turn between the targets of ``[router]`` (each empty one means the main role), and
every target is a fallback chain from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.core.models.manager import ModelManager
from app.core.providers.base import Provider
from app.core.providers.registry import (
    Discovered,
    ProviderRegistry,
    probe_local_servers_sync,
)
from app.core.providers.router import LEVELS, RoutedProvider
from app.core.settings.config import Config


@dataclass
class Stack:
    provider: Provider
    registry: ProviderRegistry
    manager: ModelManager
    router: RoutedProvider | None = None
    notices: list[str] = field(default_factory=list)
    # What ``--model``, ``/model`` or ``/local`` pinned main to ("" = config: router or chain).
    override: str = ""

    def rebuild(self, override: str | None = None) -> Provider:
        """A fresh main provider after a slot changed or the user pinned another target."""
        if override is not None:
            self.override = override
        self.registry.forget("local:")
        self.provider, self.router = _main_provider(self.registry, self.override)
        return self.provider

    async def aclose(self) -> None:
        await self.provider.aclose()
        await self.manager.shutdown()


def _main_provider(registry: ProviderRegistry,
                   override: str) -> tuple[Provider, RoutedProvider | None]:
    config = registry.config
    if override.strip():
        return registry.for_name(override), None
    main = registry.for_role("main")
    if not config.router.enabled:
        return main, None
    targets: dict[str, Provider] = {}
    names: dict[str, str] = {}
    for level in LEVELS:
        ref = str(getattr(config.router, level))
        targets[level] = registry.for_name(ref) if ref else main
        names[level] = ref or registry.chain_targets("main")[0].name
    router = RoutedProvider(targets, config.router, names=names,
                            max_iterations=config.agent.max_iterations)
    return router, router


def build_stack(config: Config, model: str | None = None, *,
                discovered: Iterable[Discovered] | None = None,
                manager: ModelManager | None = None) -> Stack:
    """Raises ``ProviderSetupError`` for a name nothing resolves. Without ``discovered``, the
    usual local server ports are probed when ``resilience.probe_local`` is on."""
    if discovered is None:
        discovered = probe_local_servers_sync() if config.resilience.probe_local else []
    manager = manager or ModelManager(config)
    registry = ProviderRegistry(config, discovered=discovered, local_factory=manager.provider)
    override = (model or "").strip()
    provider, router = _main_provider(registry, override)
    notices = [*manager.notices, *registry.notices]
    return Stack(provider, registry, manager, router, notices, override)
