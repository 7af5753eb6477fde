"""Assemble the session factory from config and CLI flags (shared by the TUI and headless runs)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.core.agent.session import SessionOptions
from app.core.context.summarizer import Summarizer
from app.core.policy.redact import register_secret_env
from app.core.providers.base import Provider
from app.core.providers.stack import Stack, build_stack
from app.core.settings.config import Config, load_config
from app.core.settings.paths import get_paths
from app.core.tools.base import ToolRegistry
from app.runtime.factory import SessionFactory, builtin_tool_source
from app.runtime.learning import learning_hook
from app.runtime.project import Project


@dataclass
class Runtime:
    config: Config
    factory: SessionFactory
    notices: list[str] = field(default_factory=list)
    stack: Stack | None = None  # slot manager, provider registry, router


def workspace_for(config: Config, flag: str | None) -> Path:
    raw = flag or config.agent.workspace
    return Path(os.path.expanduser(raw)).resolve() if raw else Path.cwd().resolve()


def default_registry(config: Config | None = None) -> ToolRegistry:
    """The tools a session built from ``config`` gets (before its features add theirs)."""
    return ToolRegistry(builtin_tool_source(config or Config())())


def memory_summarizer(config: Config) -> Summarizer:
    """The background summariser on the memory slot's model (the main model when it is empty).

    It is its own model instance, loaded on the first summary, so summarising never waits for the
    user's turn (and the turn never waits for it) on the in-process model's generation lock. One
    summariser serves every session of the factory: it holds no conversation state.
    """
    def make() -> Provider:
        from app.core.providers.registry import local_provider

        provider = local_provider(config.local.slot("memory"), threads=config.local.threads,
                                  label="memory slot").provider
        # A summary is background work: it must not slow the user's turn down on a small machine.
        if hasattr(provider, "background"):
            provider.background = True
        return provider

    return Summarizer(make, timeout_s=config.context.summary_timeout_s)


def build_runtime(*, model: str | None = None, workspace: str | None = None,
                  config: Config | None = None, provider: Provider | None = None,
                  persist: bool = True, auto_approve: bool = False) -> Runtime:
    """The factory every session of this run comes from: the provider stack (unless ``provider``
    is given), options and policy from config, saving under the state dir when ``persist``."""
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
    factory = SessionFactory(
        config, provider, options=options,
        sessions_dir=get_paths().sessions_dir if persist else None,
        tools=builtin_tool_source(config), auto_approve=auto_approve,
        summarizer=memory_summarizer(config),
        # Workers on the rlm/memory slots reuse the manager's models.
        slot_provider=stack.manager.provider if stack is not None else None,
        project=project,
        learning=learning_hook(config))  # traces, learned recipes, calibrated budgets
    return Runtime(config, factory, notices, stack)
