"""The one way to make a :class:`~app.core.agent.session.Session`.

Every session (the first one, ``/new``, a resumed one, a replay, ``nanobot ask``, a swarm's
workers) is built here from the same parts, so none of them can forget one:

- the provider (the caller's current one: ``/model`` may have switched it),
- a tool registry of its own (tools bound to a session, like ``spawn``, bind to this one),
- the permission policy from ``[permissions]``, the approver that asks the user, ``--yes``,
- the features: a seat in a worker tree with status injection, branches, the reader for large
  tool output (and ``ctx_ask``), the project's instructions, skills and MCP servers, the agent
  harness, the learning hook (traces, recipes, step budgets), long-term memory (its tools,
  auto-recall, the briefing), compaction, and whatever else the installers in
  :attr:`SessionFactory.features` add,
- the store (a new session file, the resumed one, a worker's tag in its root's file, or none).

Adding a feature that needs session wiring (MCP tools, instructions, skills, memory…): write an
installer ``def install_x(build: SessionBuild) -> None`` that reads ``build.config`` and the other
parts and adds tools (``build.tools.register``), hooks (``build.hooks.append``) or notes for the
user (``build.notices``), then list it in :data:`DEFAULT_FEATURES` (or pass ``features=`` for one
factory). A feature the UI must reach gets a typed ``Session`` constructor parameter, as
``swarm``, ``reader`` and ``compaction`` have, never a search through the hooks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.core.agent.events import Event
from app.core.agent.hooks import SessionHook
from app.core.agent.messages import Message
from app.core.agent.session import OutputReader, Session, SessionOptions
from app.core.context.compaction import ContextManager
from app.core.context.summarizer import Summarizer
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.learning.hook import LearningHook
from app.core.memory.hook import MemoryHook
from app.core.policy.permissions import Approver, PermissionGate
from app.core.providers.base import Provider
from app.core.rlm.ctx_ask import offer_ctx_ask
from app.core.rlm.gate import make_reader
from app.core.settings.config import Config
from app.core.store.session_store import SessionStore, history_from_events, read_session
from app.core.swarm.branch import BranchTool
from app.core.swarm.spawn import SpawnTool
from app.core.swarm.status import SwarmHook
from app.core.swarm.swarm import Swarm, WorkerPlan
from app.core.tools.base import ToolRegistry
from app.runtime.memory import install_memory
from app.runtime.project import Project, install_project

ToolSource = Callable[[], Iterable[Any]]  # fresh tool instances for one session


def builtin_tool_source(config: Config) -> ToolSource:
    """The built-in tools configured from ``[tools]``/``[permissions]``, and the ``ctx_*`` tools
    once a volume exists."""

    def tools() -> list[Any]:
        from app.core.context_store.tools import ctx_tools
        from app.core.tools.defaults import builtin_tools

        return [*builtin_tools(config.tools, config.permissions), *ctx_tools()]

    return tools


@dataclass
class SessionBuild:
    """One session's parts while the feature installers run; the factory then constructs the
    session from them in one call."""

    factory: SessionFactory
    kind: Literal["main", "worker"]
    provider: Provider
    options: SessionOptions
    store: SessionStore | None
    tools: ToolRegistry
    worker: WorkerPlan | None = None  # set for a worker's session
    hooks: list[SessionHook] = field(default_factory=list)
    swarm: SwarmHook | None = None
    reader: OutputReader | None = None
    compaction: ContextManager | None = None
    harness: Harness | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return self.factory.config

    def slot_provider(self, slot: str) -> Provider:
        """The provider of a model slot (main: this session's)."""
        if slot == "main" or self.factory.slot_provider is None:
            return self.provider
        return self.factory.slot_provider(slot)


Feature = Callable[[SessionBuild], None]


def install_swarm(build: SessionBuild, *, clock: Callable[[], float] = time.monotonic) -> None:
    """A main session roots a new worker tree; a worker takes its seat in its parent's tree. The
    spawn tool is bound to that seat, in this session's own registry. (``clock``: budgets'
    deadlines, for tests.)"""
    if build.worker is not None:
        swarm, owner = build.worker.swarm, build.worker.worker.id
        can_spawn = build.worker.can_spawn
    else:
        factory = build.factory
        swarm = Swarm(make_session=factory.worker, config=build.config.swarm,
                      provider_for=factory.slot_provider, clock=clock)
        owner, can_spawn = None, True
    build.swarm = SwarmHook(swarm, owner)
    if can_spawn:
        build.tools.register(SpawnTool(swarm, owner))


def install_branches(build: SessionBuild) -> None:
    """The ``branch`` tool on a main session (forks of its conversation in its worker tree),
    unless ``[swarm] max_branches`` is 0. Workers never branch."""
    if build.worker is None and build.swarm is not None and build.config.swarm.max_branches > 0:
        build.tools.register(BranchTool(build.swarm.swarm))


def install_compaction(build: SessionBuild) -> None:
    """Masking and emergency truncation always; background summaries in main sessions only."""
    if build.worker is not None:
        build.compaction = ContextManager()
        return
    build.compaction = ContextManager(summarizer=build.factory.summarizer,
                                      config=build.config.context)


def install_reader(build: SessionBuild) -> None:
    """A main session's large and interpretive tool output is read on the rlm slot's model
    (main's when the slot is empty), and questions about volumes that one search cannot answer
    go to the volume reader on the same slot (``ctx_ask``, once a volume exists). Workers read
    their output themselves."""
    if build.worker is not None:
        return

    def rlm() -> Provider:
        return build.slot_provider("rlm")

    build.reader = make_reader(rlm, build.config.rlm)
    offer_ctx_ask(build.tools, None, rlm, build.factory.helper)


def install_harness(build: SessionBuild) -> None:
    """The agent harness (workspace map, grounded reads, constrained and voted steps, checked
    answers) on a main session, a fresh one per session (its reads are per session), when the
    factory has ``[harness]`` settings (the app's factory always does). Workers run bare."""
    if build.worker is None and build.factory.harness is not None:
        build.harness = Harness(build.factory.harness, build.options.workspace)


def install_learning(build: SessionBuild) -> None:
    """A main session's turns are traced and learned from (recipes, step budgets) by the
    factory's one learning hook; workers' are not traced on their own."""
    if build.worker is None and build.factory.learning is not None:
        build.hooks.append(build.factory.learning)


DEFAULT_FEATURES: tuple[Feature, ...] = (
    install_swarm, install_project, install_reader, install_harness, install_learning,
    install_memory, install_branches, install_compaction)


@dataclass
class Opened:
    """A session made by the factory, with the saved events a view rebuilds from."""

    session: Session
    events: list[Event] = field(default_factory=list)
    skipped: int = 0
    skipped_lines: tuple[int, ...] = ()
    notices: list[str] = field(default_factory=list)

    def damage_note(self, name: str) -> str:
        if not self.skipped:
            return ""
        lines = ", ".join(map(str, self.skipped_lines[:5]))
        more = "…" if len(self.skipped_lines) > 5 else ""
        return (f"{self.skipped} damaged line(s) in {name} could not be read and were skipped "
                f"(line {lines}{more}); everything else is shown. The file was not changed.")


@dataclass(frozen=True)
class SessionFactory:
    """Makes sessions from one set of parts; see the module docstring.

    ``sessions_dir`` None: new sessions are not saved. ``summarizer`` None: compaction masks and
    truncates but writes no summaries. ``slot_provider`` gives the rlm/memory slots' models to
    workers (None: workers run on their parent's model).
    """

    config: Config
    provider: Provider
    options: SessionOptions = field(default_factory=SessionOptions)
    sessions_dir: Path | None = None
    tools: ToolSource | None = None
    approver: Approver | None = None
    auto_approve: bool = False
    summarizer: Summarizer | None = None
    slot_provider: Callable[[str], Provider] | None = None
    features: Sequence[Feature] = DEFAULT_FEATURES
    project: Project | None = None  # instructions, skills, MCP servers: shared by all sessions
    learning: LearningHook | None = None  # traces and learns from every main session
    memory: MemoryHook | None = None  # long-term memory and the briefing: shared by all sessions
    harness: HarnessConfig | None = None  # the agent harness's settings (None: sessions run bare)

    # --- variations ----------------------------------------------------------------------------

    def asking(self, approver: Approver | None, *, auto_approve: bool | None = None
               ) -> SessionFactory:
        """This factory, with sessions that ask ``approver`` (the TUI's permission modal)."""
        return dataclasses.replace(self, approver=approver, auto_approve=self.auto_approve
                                   if auto_approve is None else auto_approve)

    def with_options(self, **changes: Any) -> SessionFactory:
        return dataclasses.replace(self, options=dataclasses.replace(self.options, **changes))

    # --- sessions ------------------------------------------------------------------------------

    def new(self, *, provider: Provider | None = None) -> Opened:
        """A fresh session (saved in ``sessions_dir`` when there is one)."""
        store = SessionStore.create(self.sessions_dir) if self.sessions_dir is not None else None
        return self.open(provider=provider, store=store)

    def resume(self, path: Path, *, provider: Provider | None = None) -> Opened:
        """The session saved at ``path``, to continue (it goes on writing to the same file).
        Damaged lines are skipped and reported; the file is never rewritten."""
        read = read_session(path)
        opened = self.open(provider=provider, store=SessionStore(path),
                           history=history_from_events(read.events))
        return Opened(opened.session, read.events, read.skipped, tuple(read.skipped_lines),
                      opened.notices)

    def open(self, *, provider: Provider | None = None, store: SessionStore | None = None,
             history: list[Message] | None = None) -> Opened:
        """A main session on ``store`` (None: not saved) with ``history``."""
        tools = ToolRegistry(self.tools() if self.tools is not None else ())
        # Options of its own: an installer adds system prompt sections for this session only.
        options = dataclasses.replace(self.options,
                                      prompt_sections=list(self.options.prompt_sections))
        build = SessionBuild(self, "main", provider or self.provider, options, store, tools)
        for feature in self.features:
            feature(build)
        session = Session(
            build.provider, tools=build.tools, options=build.options, store=build.store,
            history=history, permissions=PermissionGate(self.config.permissions),
            approver=self.approver, auto_approve=self.auto_approve,
            swarm=build.swarm, reader=build.reader, compaction=build.compaction,
            harness=build.harness, hooks=build.hooks)
        return Opened(session, notices=build.notices)

    def helper(self, provider: Provider, tools: ToolRegistry,
               options: SessionOptions) -> Session:
        """A conversation a tool holds inside one call (the volume reader's): no features, no
        store, read-only tools; the factory's policy still decides what runs."""
        return Session(provider, tools=tools, options=options,
                       permissions=PermissionGate(self.config.permissions),
                       auto_approve=self.auto_approve)

    def worker(self, plan: WorkerPlan) -> Session:
        """A worker's session: its parent's policy (what "allow for this session" allowed holds
        for the whole tree), approver (the question names the worker) and ``--yes``."""
        build = SessionBuild(self, "worker", plan.provider, plan.options(), plan.store(),
                             plan.tools(), worker=plan)
        for feature in self.features:
            feature(build)
        parent = plan.parent
        return Session(
            build.provider, tools=build.tools, options=build.options, store=build.store,
            history=plan.history(), permissions=parent.permissions, approver=plan.approver(),
            auto_approve=parent.auto_approve,
            swarm=build.swarm, compaction=build.compaction, hooks=build.hooks)
