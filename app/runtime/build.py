"""Assemble the session factory from config and CLI flags (shared by the TUI and headless runs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.agent.session import SessionOptions
from app.core.context.summarizer import Summarizer
from app.core.memory.hook import MemoryHook
from app.core.policy.redact import register_secret_env
from app.core.providers.base import Provider
from app.core.providers.stack import Stack, build_stack
from app.core.settings.config import Config, load_config
from app.core.settings.paths import get_paths
from app.core.tools.base import ToolRegistry
from app.runtime.factory import SessionFactory, builtin_tool_source
from app.runtime.learning import learning_hook
from app.runtime.memory import memory_model, open_memory
from app.runtime.project import Project


@dataclass
class Runtime:
    config: Config
    factory: SessionFactory
    notices: list[str] = field(default_factory=list)
    stack: Stack | None = None  # slot manager, provider registry, router

    @property
    def memory(self) -> MemoryHook | None:
        """Long-term memory and the briefing (app-wide; None when off or unavailable)."""
        return self.factory.memory


def workspace_for(config: Config, flag: str | None) -> Path:
    raw = flag or config.agent.workspace
    return Path(os.path.expanduser(raw)).resolve() if raw else Path.cwd().resolve()


def default_registry(config: Config | None = None) -> ToolRegistry:
    """The tools a session built from ``config`` gets (before its features add theirs)."""
    return ToolRegistry(builtin_tool_source(config or Config())())


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


def memory_summarizer(config: Config, main: Callable[[], Provider] | None = None) -> Summarizer:
    """A background summariser: the memory slot's model; with no memory slot set, the main
    provider (``main()``: asked on each call, /model may change it) when that is remote (a remote
    model finishes; loading the local model for it would cost RAM and time the user never asked
    for); else the main slot's model.

    A local model is its own instance, loaded on the first summary, so summarising never waits
    for the user's turn (and the turn never waits for it) on the in-process generation lock. One
    summariser serves every session of a factory: it holds no conversation state.
    """
    memory_set = not config.local.memory.empty

    def remote_main() -> bool:
        return not memory_set and main is not None and runs_remote(main())

    def make() -> Provider:
        if main is not None and remote_main():
            return main()
        from app.core.providers.registry import local_provider

        provider = local_provider(config.local.slot("memory"), threads=config.local.threads,
                                  label="memory slot").provider
        # A summary is background work: it must not slow the user's turn down on a small machine.
        if hasattr(provider, "background"):
            provider.background = True
        return provider

    # The main provider is asked each time (/model may change it); a local model is made once.
    return Summarizer(make, timeout_s=config.context.summary_timeout_s, reuse=not remote_main())


def build_runtime(*, model: str | None = None, workspace: str | None = None,
                  config: Config | None = None, provider: Provider | None = None,
                  persist: bool = True, auto_approve: bool = False) -> Runtime:
    """The factory every session of this run comes from: the provider stack (unless ``provider``
    is given), options and policy from config, saving under the state dir when ``persist``.

    Learning and long-term memory are side jobs: when their files cannot be opened (a full disk,
    a read-only home) the factory is built without them and ``notices`` says why."""
    config = config or load_config()
    for p in config.providers.values():
        register_secret_env(p.api_key_env)
    register_secret_env(config.tools.web_search.api_key_env)
    notices: list[str] = []
    stack = None
    if provider is None:
        stack = build_stack(config, model)
        provider, notices = stack.provider, list(stack.notices)
    options = SessionOptions(workspace=workspace_for(config, workspace),
                             max_iterations=config.agent.max_iterations,
                             max_tokens=config.agent.max_tokens,
                             system_prompt=config.agent.system_prompt)
    # AGENTS.md/CLAUDE.md, skills and MCP servers: read once, shared by every session.
    project = Project.load(config, options.workspace, get_paths().config_dir)
    notices += project.notes(provider.capabilities.context_window)
    main = provider
    # Summaries and the memory briefing share the memory slot's model.
    mem_model = memory_model(config, lambda: main)
    memory = open_memory(config, options.workspace, model=mem_model, notices=notices)
    factory = SessionFactory(
        config, provider, options=options,
        sessions_dir=get_paths().sessions_dir if persist else None,
        tools=builtin_tool_source(config), auto_approve=auto_approve,
        summarizer=Summarizer(mem_model.get, timeout_s=config.context.summary_timeout_s),
        # Workers on the rlm/memory slots reuse the manager's models.
        slot_provider=stack.manager.provider if stack is not None else None,
        project=project,
        # Traces, learned recipes, calibrated budgets (None: its files failed).
        learning=learning_hook(config, notices=notices),
        memory=memory,  # remember/recall, auto-recall, past turns, the briefing
        harness=config.harness)  # map, grounded reads, constrained/voted steps, checked answers
    return Runtime(config, factory, notices, stack)
