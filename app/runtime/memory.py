"""Long-term memory and the memory briefing, wired into sessions.

:func:`open_memory` makes the app-wide parts once (the database, the briefing and its schedule,
the memory model) and belongs to the session factory (``factory.memory``); :func:`install_memory`
is the factory's installer that gives them to each main session it makes (the first, ``/new``, a
resumed one): the ``remember`` and ``recall`` tools, the hook (auto-recall, turns indexed, turn
boundaries for the schedule) and the briefing as a system prompt section. The TUI starts the
schedule once the app runs (:func:`start_memory`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.memory.bulletin import Bulletin, BulletinSchedule
from app.core.memory.db import MemoryDbError
from app.core.memory.hook import MemoryHook
from app.core.memory.model import MemoryModel
from app.core.memory.semantic import embedder
from app.core.memory.service import Memory
from app.core.memory.tools import RecallTool, RememberTool
from app.core.providers.base import Provider
from app.core.settings.config import Config
from app.core.settings.paths import get_paths

if TYPE_CHECKING:
    from app.runtime.factory import SessionBuild

log = logging.getLogger(__name__)


def memory_path() -> Path:
    return get_paths().data_dir / "memory.db"


def briefing_path(workspace: Path) -> Path:
    """One briefing per project (it covers that project's sessions)."""
    key = hashlib.sha256(str(workspace).encode()).hexdigest()[:16]
    return get_paths().state_dir / "memory" / f"briefing-{key}.md"


def memory_model(config: Config, main: Callable[[], Provider]) -> MemoryModel:
    """The memory slot's model: the configured slot; else the main provider when it is remote;
    else an instance of its own of the local main model (never the user's, which it would make
    wait for the generation lock)."""
    if config.local.memory.empty and config.agent.provider != "local":
        return MemoryModel(main, local=False, timeout_s=config.memory.timeout_s)

    def make() -> Provider:
        from app.core.providers.registry import local_provider

        return local_provider(config.local.slot("memory"), threads=config.local.threads,
                              label="memory slot").provider

    return MemoryModel(make, local=True, timeout_s=config.memory.timeout_s)


def open_memory(config: Config, workspace: Path, *, model: MemoryModel | None,
                path: Path | None = None, notices: list[str] | None = None) -> MemoryHook | None:
    """The app's memory (None when ``[memory] enabled = false`` or the database cannot open:
    then the app runs without it and says so in the log and in ``notices``)."""
    cfg = config.memory
    if not cfg.enabled:
        return None
    try:
        memory = Memory(path or memory_path(), cfg, embed=embedder())
        forgotten = memory.maintain()
    except MemoryDbError as exc:
        # A full disk or a read-only home: the run goes on without memory, and says why once.
        log.warning("long-term memory is off for this run: %s", exc)
        if notices is not None:
            notices.append(f"long-term memory is off for this run: {exc}")
        return None
    if forgotten:
        log.info("memory: %d fact(s) decayed and were forgotten", len(forgotten))
    hook = MemoryHook(memory)
    if cfg.bulletin:
        hook.bulletin = Bulletin(memory, model, briefing_path(workspace), workspace,
                                 words=cfg.bulletin_words)
        hook.schedule = BulletinSchedule(
            hook.bulletin, delay_s=cfg.bulletin_delay_s, every_s=cfg.bulletin_every_s,
            busy=lambda: hook.session is not None and hook.session.running,
            yield_to_turns=model is not None and model.local)
        hook.on_turn = hook.schedule.turn
    return hook


def install_memory(build: SessionBuild) -> None:
    """The factory's memory on a main session: the ``remember`` and ``recall`` tools, the hook
    (it binds to the session it is attached to) and the briefing as a system prompt section.
    Workers get none of it (a branch may use its parent's ``remember``)."""
    hook = build.factory.memory
    if hook is None or build.worker is not None:
        return
    build.tools.register(RememberTool(hook))
    build.tools.register(RecallTool(hook))
    build.hooks.append(hook)
    if hook.bulletin is not None and hook.bulletin.section not in build.options.prompt_sections:
        build.options.prompt_sections.append(hook.bulletin.section)


def start_memory(hook: MemoryHook | None) -> None:
    """Start the briefing's schedule (call with the event loop running: the TUI on mount)."""
    if hook is not None and hook.schedule is not None:
        hook.schedule.start()


async def close_memory(hook: MemoryHook | None) -> None:
    """Stop the briefing's schedule and close the database (the app's or the run's end)."""
    if hook is None:
        return
    if hook.schedule is not None:
        await hook.schedule.aclose()
    hook.memory.close()
