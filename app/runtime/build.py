"""Assemble a working session from config and CLI flags (shared by the TUI and headless runs)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from app.core.agent.session import Session, SessionOptions
from app.core.agent.session_features import install_features
from app.core.context.summarizer import Summarizer
from app.core.memory.hook import MemoryHook
from app.core.policy.permissions import PermissionGate
from app.core.policy.redact import register_secret_env
from app.core.providers.base import Provider
from app.core.providers.stack import Stack, build_stack
from app.core.settings.config import Config, load_config
from app.core.settings.paths import get_paths
from app.core.store.session_store import SessionStore, history_from_events, read_session
from app.core.swarm.branch import install_branches
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools
from app.runtime import learning
from app.runtime.memory import install_memory, memory_model, open_memory


@dataclass
class Runtime:
    config: Config
    session: Session
    notices: list[str] = field(default_factory=list)
    stack: Stack | None = None  # slot manager, provider registry, router (issue 5)
    memory: MemoryHook | None = None  # long-term memory and the briefing (app-wide)


def workspace_for(config: Config, flag: str | None) -> Path:
    raw = flag or config.agent.workspace
    return Path(os.path.expanduser(raw)).resolve() if raw else Path.cwd().resolve()


def default_registry(config: Config | None = None) -> ToolRegistry:
    from app.core.context_store.tools import ctx_tools  # [] until a volume exists

    cfg = config or Config()
    return ToolRegistry([*builtin_tools(cfg.tools, cfg.permissions), *ctx_tools()])


def build_runtime(*, model: str | None = None, workspace: str | None = None,
                  config: Config | None = None, provider: Provider | None = None,
                  persist: bool = True, resume_path: Path | None = None) -> Runtime:
    config = config or load_config()
    for p in config.providers.values():
        register_secret_env(p.api_key_env)
    register_secret_env(config.tools.web_search.api_key_env)
    notices: list[str] = []
    stack = None
    if provider is None:
        stack = build_stack(config, model)
        provider, notices = stack.provider, list(stack.notices)
    ws = workspace_for(config, workspace)
    options = SessionOptions(workspace=ws, max_iterations=config.agent.max_iterations,
                             max_tokens=config.agent.max_tokens,
                             system_prompt=config.agent.system_prompt)
    history = None
    store = None
    if resume_path is not None:
        result = read_session(resume_path)
        history = history_from_events(result.events)
        if result.skipped:
            notices.append(f"{result.skipped} damaged line(s) in {resume_path.name} were skipped "
                           f"(lines {', '.join(map(str, result.skipped_lines[:5]))})")
        store = SessionStore(resume_path) if persist else None
    elif persist:
        store = SessionStore.create(get_paths().sessions_dir)
    session = Session(provider, tools=default_registry(config), options=options, store=store,
                      history=history)
    session.permissions = PermissionGate(config.permissions)
    main = provider
    mem_model = memory_model(config, lambda: main)
    # Compaction, workers, status injection; workers reuse the manager's slot models. Summaries
    # and the memory briefing share the memory slot's model.
    install_features(session, config, summarizer=Summarizer(
        mem_model.get, timeout_s=config.context.summary_timeout_s),
                     provider_for=stack.manager.provider if stack is not None else None)
    notices += install_project(session, config)
    learning.install(session, config, notices=notices)  # traces, recipes, calibrated budgets
    memory = open_memory(config, ws, model=mem_model, notices=notices)
    install_memory(session, memory)
    install_branches(session)
    return Runtime(config, session, notices, stack, memory)


def install_project(session: Session, config: Config) -> list[str]:
    """AGENTS.md/CLAUDE.md and the skill index into the system prompt, read_skill and the MCP
    servers' tools into the tool registry (servers start with the first turn); notes for the
    user (instructions cut for the window, skills that could not be read)."""
    from app.core.mcp.manager import install_mcp
    from app.core.project.instructions import install_instructions
    from app.core.skills.library import install_skills

    config_dir = get_paths().config_dir
    _, notes = install_instructions(session, config_dir)
    _, problems = install_skills(session, config_dir)
    notes += [f"skill skipped: {p}" for p in problems]
    install_mcp(session, config.mcp_servers)
    return notes
