"""Wire compaction, workers and status injection into a session built from config.

Kept out of :mod:`app.runtime.build` so the runtime stays a short assembly; the TUI reaches the pieces
through :func:`app.core.context.compaction.manager_of` and :func:`app.core.swarm.swarm.swarm_of`.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.agent.session import Session
from app.core.context.compaction import ContextManager
from app.core.context.compaction import install as install_context
from app.core.context.summarizer import Summarizer
from app.core.harness.harness import install as install_harness
from app.core.providers.base import Provider
from app.core.rlm.ctx_ask import install as install_ctx_ask
from app.core.rlm.gate import install as install_reader
from app.core.settings.config import Config
from app.core.swarm.swarm import Swarm
from app.core.swarm.swarm import install as install_swarm


def slot_providers(config: Config, session: Session) -> Callable[[str], Provider]:
    """A provider per local slot, made once; a slot that falls back to main shares its model."""
    made: dict[str, Provider] = {}

    def provider_for(slot: str) -> Provider:
        if slot == "main" or config.local.slot(slot) == config.local.main:
            return session.provider
        if slot not in made:
            from app.core.providers.registry import local_provider

            made[slot] = local_provider(config.local.slot(slot), threads=config.local.threads,
                                        label=f"{slot} slot").provider
        return made[slot]

    return provider_for


def runs_remote(provider: Provider) -> bool:
    """Whether ``provider`` (through routers and fallback chains: its first choice) is a remote
    endpoint rather than a model on this machine (in-process or a managed local server)."""
    from app.core.providers.openai_http import OpenAIHTTPProvider

    seen: set[int] = set()
    while id(provider) not in seen:
        seen.add(id(provider))
        inner = getattr(provider, "current", None) or (getattr(provider, "chain", None) or [None])[0]
        if inner is None:
            break
        provider = inner
    return isinstance(provider, OpenAIHTTPProvider) and not provider.name.startswith("local")


def memory_summarizer(config: Config, session: Session | None = None) -> Summarizer:
    """The background summariser: the memory slot's model; with no memory slot set, the main
    provider when that is remote (a remote model finishes; loading the local model for it would
    cost RAM and time the user never asked for); else the main slot's model.

    A local model is its own instance, loaded on the first summary, so summarising never waits
    for the user's turn (and the turn never waits for it) on the in-process generation lock.
    """
    memory_set = not config.local.memory.empty

    def make() -> Provider:
        if not memory_set and session is not None and runs_remote(session.provider):
            return session.provider
        from app.core.providers.registry import local_provider

        provider = local_provider(config.local.slot("memory"), threads=config.local.threads,
                                  label="memory slot").provider
        # A summary is background work: it must not slow the user's turn down on a small machine.
        if hasattr(provider, "background"):
            provider.background = True
        return provider

    # The main provider is asked each time (/model may change it); a local model is made once.
    remote_main = not memory_set and session is not None and runs_remote(session.provider)
    return Summarizer(make, timeout_s=config.context.summary_timeout_s, reuse=not remote_main)


def install_features(session: Session, config: Config, *,
                     summarizer: Summarizer | None = None,
                     provider_for: Callable[[str], Provider] | None = None,
                     ) -> tuple[ContextManager, Swarm]:
    """The agent harness (``[harness]``), compaction (summaries on ``summarizer``, default: the
    memory slot's own instance) and the swarm (workers' slot models from ``provider_for``,
    default: :func:`slot_providers`)."""
    install_harness(session, config.harness)
    manager = install_context(session,
                              summarizer=summarizer or memory_summarizer(config, session),
                              config=config.context)
    slots = provider_for or slot_providers(config, session)
    swarm = install_swarm(session, config=config.swarm, provider_for=slots)
    # Large and interpretive tool output is read on the rlm slot's model (main's when empty).
    install_reader(session, lambda: slots("rlm"), config.rlm)
    # Questions about volumes that one search cannot answer go to the volume reader, same slot.
    install_ctx_ask(session.tools, None, lambda: slots("rlm"))
    return manager, swarm
