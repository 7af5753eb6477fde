"""The Textual app: composes the main screen, binds keys from the registry, routes events.

Everything else lives next door: prompt handling in :mod:`app.tui.prompt_flow`, session/model/theme
switching in :mod:`app.tui.session_ops`, events → conversation blocks in
:mod:`app.tui.transcript`, keys in :mod:`app.tui.actions`, slash commands in :mod:`app.tui.slash`,
palette in :mod:`app.tui.commands`. Those helpers see the App only through the ports in
:mod:`app.tui.ports`, which it implements. Sessions come from one
:class:`~app.runtime.factory.SessionFactory`: the first one, ``/new`` and resumed ones.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Footer

from app.core.agent.events import (
    Event,
)
from app.core.store.pending import PendingStore
from app.tui import actions, panes  # noqa: F401 - panes registers keys, screens, commands
from app.tui import signals as tui_signals
from app.tui.boot import Boot, Booting, open_session, preload_main_model, run_boot
from app.tui.bridge import FLUSH_SECONDS, SessionBridge, feed_hardware
from app.tui.conversation_actions import ConversationActions
from app.tui.core_events import STATUS_EVERY, CoreEventView
from app.tui.palette import PALETTE
from app.tui.prompt_flow import PromptFlow
from app.tui.screens import get_screen
from app.tui.session_ops import SessionOps
from app.tui.side_panels import SidePanels
from app.tui.transcript import TranscriptFold, blocks_from_events
from app.tui.turn_keys import DOUBLE_PRESS_SECONDS, TurnKeys
from app.tui.turn_state import IDLE, TurnState
from themes import STYLESHEET, THEMES
from widgets.context_meter import ContextMeter
from widgets.conversation import Conversation
from widgets.flash import Flash
from widgets.hardware_panel import HardwarePanel
from widgets.pending_strip import PendingStrip
from widgets.prompt_input import PromptInput
from widgets.status_bar import StatusBar
from widgets.swarm_panel import SwarmPanel
from widgets.swarm_tree import SwarmTree
from widgets.worker_transcript import WorkerTranscript

if TYPE_CHECKING:  # loaded after the first frame (app/tui/boot.py), or by whoever passes them
    from app.core.agent.session import Session
    from app.core.models.hardware import HardwareSampler, HardwareSnapshot
    from app.core.policy.permissions import ApprovalRequest, Decision
    from app.core.providers.replay import ReplayProvider
    from app.core.providers.stack import Stack
    from app.core.settings.config import Config
    from app.runtime.factory import Opened, SessionFactory


# The constants that moved out with the key and status code stay importable from here.
__all__ = ["DOUBLE_PRESS_SECONDS", "STATUS_EVERY", "WELCOME", "NanobotApp", "Prompt"]

WELCOME = ("Nanobot: ask anything, the model runs on this machine. While it works, Enter steers "
           "it, Tab queues, Esc Esc cancels. F1 lists keys, /help the commands.")


class Prompt(PromptInput):
    """The prompt, with its keys from the action registry (ids, so ``[keymap]`` remaps them)."""

    BINDINGS: ClassVar[list[BindingType]] = list(actions.bindings("prompt"))


class NanobotApp(ConversationActions, SidePanels, CoreEventView, TurnKeys, App[None],
                 inherit_bindings=False):
    TITLE = "Nanobot"
    CSS_PATH = str(STYLESHEET)
    AUTO_FOCUS = "#prompt"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS: ClassVar[set[Any]] = PALETTE
    # Every action is registered at import of a module imported above (panes registers the
    # features' keys), so the class's bindings are the registry's, and only those (Textual's
    # own App keys are not inherited: the registry declares quit, the palette and the rest).
    BINDINGS: ClassVar[list[BindingType]] = list(actions.bindings("app"))

    thinking: reactive[bool] = reactive(False, init=False)
    busy: reactive[bool] = reactive(False, init=False)  # a turn runs (or is about to)
    turn_state: reactive[TurnState] = reactive(IDLE, init=False)

    session: Session  # set by attach(): at once when given a factory, after the first frame
    bridge: SessionBridge
    factory: SessionFactory  # asks the user through the permission modal

    def __init__(self, factory: SessionFactory | None = None, *, resume: Path | None = None,
                 config: Config | None = None, notices: list[str] | None = None,
                 hardware: HardwareSnapshot | None = None, replay: ReplayProvider | None = None,
                 blink: bool = True, flush_seconds: float = FLUSH_SECONDS,
                 stack: Stack | None = None, boot: Boot | None = None,
                 resumed_events: list[Event] | None = None) -> None:
        """``factory`` makes the first session at once (``resume``: the saved one, and an
        OSError when it cannot be read); without one, ``boot`` builds it after the first frame.
        ``config`` (booting only) styles the app until the factory's arrives.
        ``resumed_events``: a history to show without a file behind it (benchmarks, tests)."""
        super().__init__()
        self.stack = stack  # slots, registry, router
        if config is None:
            if factory is not None:
                config = factory.config
            else:
                from app.core.settings.config import Config

                config = Config()
        self.config = config
        self.keymap = dict(self.config.keymap)
        self._flush_seconds = flush_seconds
        self._startup_notices = list(notices or [])
        self._fixed_hardware = hardware
        self._sampler: HardwareSampler | None = None
        self.replay = replay
        self._blink = blink
        self._resumed_events = resumed_events
        # Until the session is attached: messages typed are kept here, in memory.
        self.pending = PendingStore(None)
        self.attachments: list[str] = []
        self.side_mode = "auto"
        self._esc_at = 0.0
        self._ctrl_c_at = 0.0
        self._key_time = 0.0  # Textual's clock (monotonic) at the key event being handled
        self._ctx_used = 0
        self._ctx_streamed = 0  # characters streamed since the last real count
        self._status_at = 0.0
        self.ready = False  # set once composed: handlers before that have nothing to update
        self._build_panes()
        self.flow = PromptFlow(self)
        self.ops = SessionOps(self)
        for theme in THEMES:
            self.register_theme(theme)
        self.theme, theme_note = self.ops.initial_theme()
        self._startup_notices += [theme_note] if theme_note else []
        self.booting = Booting(boot) if factory is None else None
        if factory is not None:
            factory = self.asking(factory)
            self.attach(factory, open_session(factory, resume), resume=resume)

    @property
    def attached(self) -> bool:
        return self.booting is None or self.booting.done

    def asking(self, factory: SessionFactory) -> SessionFactory:
        """``factory``, with every session it makes (the first, /new, resumed ones, their
        workers) asking the user through the permission modal when a tool's policy is "ask"."""
        return factory.asking(self.ask_permission)

    async def ask_permission(self, request: ApprovalRequest) -> Decision:
        from app.tui.screens.permission import ask_permission

        return await ask_permission(self, request)

    def attach(self, factory: SessionFactory, opened: Opened, *, resume: Path | None = None,
               stack: Stack | None = None, notices: list[str] | None = None) -> None:
        """Connect the app to its first session: opened by the constructor, or by the boot
        worker after the first frame (with the slot stack and notices it gathered)."""
        self.factory = factory
        self.config = factory.config
        if stack is not None:
            self.stack = stack
        self._startup_notices += [*(notices or []), *opened.notices]
        if resume is not None:
            note = opened.damage_note(resume.name)
            self._startup_notices += [note] if note else []
            self._resumed_events = opened.events
        session = self.session = opened.session
        self.bridge = SessionBridge(self, session, flush_seconds=self._flush_seconds)
        early = [item.text for item in self.pending]  # typed while the app was starting
        self.pending = PendingStore.for_session(session.store.path if session.store else None)
        self.pending.convert("steer", "queue")  # left by a crash: no turn runs, so they wait
        # Thinking starts on only where the model can think: asking a model that cannot is noise.
        can_think = session.provider.capabilities.supports_thinking
        self.set_reactive(NanobotApp.thinking, bool(self.config.ui.show_thinking and can_think))
        session.thinking = self.thinking
        if self.booting is not None:
            self.booting.done = True
        if self.ready:
            self._session_ready(early)

    # --- layout ------------------------------------------------------------------------------

    def _build_panes(self) -> None:
        # Kept as attributes: a modal on top (inject line, help) must not hide them from handlers,
        # and App.query_one only searches the active screen.
        self.conversation = Conversation(id="conversation")
        # Live events become blocks through the same fold that rebuilds a resumed session.
        self.fold = TranscriptFold(self.conversation)
        self.meter = ContextMeter(id="meter")
        self.swarm = SwarmPanel(id="swarm")
        self.swarm_tree = SwarmTree(id="swarm-tree")  # hidden until a worker exists
        self.hardware_panel = HardwarePanel(id="hardware")
        self.side = Vertical(self.meter, self.swarm, self.swarm_tree, self.hardware_panel,
                             id="side")
        self.main_row = Horizontal(self.conversation, self.side, id="main")
        self.flash = Flash(id="flash")
        self.strip = PendingStrip(id="pending")
        self.prompt: PromptInput = Prompt(id="prompt")
        self.status_bar = StatusBar(id="status")

    def compose(self) -> ComposeResult:
        yield self.main_row
        yield self.flash
        yield self.strip
        yield self.prompt
        yield self.status_bar
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        self.ready = True
        tui_signals.install(self)  # SIGTERM/SIGHUP: cancel, kill exec trees, stop servers, exit
        prompt = self.prompt
        prompt.cursor_blink = self._blink
        prompt.completer = self.complete_prompt
        self.set_keymap(self.keymap)
        unknown = actions.unknown_ids(self.keymap)
        if unknown:
            self._startup_notices.append(
                f"[keymap] has unknown action id(s): {', '.join(unknown)}; F1 lists the ids")
        self._apply_thinking_class()
        self._apply_size(self.size.width, self.size.height)
        if self.attached:
            self._session_ready()
            return
        # First frame now; the core and the session come in the background (app/tui/boot.py).
        self.refresh_status()
        self.call_after_refresh(lambda: self.run_worker(run_boot(self), group="boot",
                                                        exit_on_error=False))

    def _session_ready(self, early: list[str] | None = None) -> None:
        """Everything that needs the session, once it is attached."""
        self._ctx_used = self._estimate_history()
        self.model_changed()
        if self._resumed_events is not None:
            self.fold.reset()
            self.conversation.set_blocks(blocks_from_events(self._resumed_events))
        if not self.conversation.blocks and self.replay is None:
            self.add_notice(WELCOME)
        for note in self._startup_notices:
            self.add_notice(note, "warning")
        self._startup_notices = []
        self.flow.refresh_pending()
        self.refresh_status()
        if early:  # typed while starting: it goes out now
            self.run_worker(self.flow.release_early(early), exit_on_error=False)
        elif len(self.pending):
            self.say(f"{len(self.pending)} message(s) typed before the app closed are waiting: "
                     "Enter on an empty prompt sends the next, ↑ edits the last")
        if self._fixed_hardware is not None:
            self.hardware_panel.show_snapshot(self._fixed_hardware)
        else:  # the side panel shows CPU, RAM and this process: no GPU polling for it
            from app.core.models.hardware import HardwareSampler

            self._sampler = feed_hardware(self, HardwareSampler(interval=2.0, gpus=False))
        if self.replay is not None:
            self.run_worker(self.flow.replay_all(self.replay), group="turn", exit_on_error=False)
        if self.stack is not None:
            from app.tui.model_ops import start_managed_servers

            self.run_worker(start_managed_servers(self), group="model-load", exit_on_error=False)
            if self.booting is not None:  # the real app: have the model ready before it is asked
                self.run_worker(preload_main_model(self), group="model-load",
                                exit_on_error=False)
        from app.tui.screens.processes import announce_processes

        announce_processes(self)  # processes started from the CLI
        from app.runtime.memory import start_memory

        start_memory(self.factory.memory)  # the memory briefing's schedule

    async def on_unmount(self) -> None:
        if self._sampler is not None:
            self._sampler.stop()
        if self.attached:
            self.bridge.close()
            if self.factory.project is not None:  # MCP servers and their process groups
                await self.factory.project.aclose()
            from app.runtime.memory import close_memory

            await close_memory(self.factory.memory)
            if self.session.store is not None:
                self.session.store.close()  # releases the session file's lock

    # --- panes and settling (core events and the status line: app/tui/core_events.py) -------

    def on_swarm_tree_transcript_requested(self, message: SwarmTree.TranscriptRequested) -> None:
        row = next((r for r in self.swarm_tree.snapshot.rows if r.id == message.worker_id), None)
        if row is not None:
            self.push_screen(WorkerTranscript(row.id, f"{row.id} · {row.label} · {row.model}",
                                              self.bridge.worker_transcript(row.id)))

    def action_dashboard(self) -> None:
        from app.tui.model_ops import open_dashboard

        open_dashboard(self)

    def action_rate(self, good: bool) -> None:
        """👍/👎 on the last answer (app/tui/learning_commands.py)."""
        from app.tui.learning_commands import rate_key

        rate_key(self, good)

    async def settle(self) -> None:
        """Deliver buffered deltas and wait until they are rendered (for tests and benchmarks;
        the live path never waits like this)."""
        if self.attached:
            self.bridge.flush()
        for _ in range(1000):  # bounded: the queue also carries the app's own housekeeping
            await asyncio.sleep(0)  # a yield, so the app's loop handles the CoreEvents
            if self.message_queue_size == 0:
                break

    # --- the session on screen ------------------------------------------------------------------

    async def show_session(self, session: Session, events: list[Event]) -> None:
        """Make ``session`` the one on screen: events, pending messages and the meter follow it,
        and the conversation is rebuilt from ``events`` (all of it, drawn lazily)."""
        self.bridge.close()
        self.session = session
        session.thinking = self.thinking
        self.bridge = SessionBridge(self, session, flush_seconds=self.bridge.flush_seconds)
        self.pending = PendingStore.for_session(session.store.path if session.store else None)
        self.pending.convert("steer", "queue")  # no turn runs: restored steers wait in the queue
        self._ctx_used, self._ctx_streamed = self._estimate_history(), 0
        self.fold.reset()
        self.conversation.set_blocks(blocks_from_events(events))
        self.flow.refresh_pending()
        self.model_changed()

    # --- keys (the turn's own keys: app/tui/turn_keys.py) ------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            # When the user pressed it, not when a busy loop got round to it: a double press is
            # judged on the user's timing.
            self._key_time = event.time
        await super().on_event(event)


    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.keymap))

    async def action_clear_view(self, also: str = "") -> None:
        self.conversation.clear()
        self.fold.reset()
        n = len(self.session.history) if self.attached else 0
        self.add_notice(f"view cleared{also}; the session still holds {n} message"
                        f"{'s' if n != 1 else ''} (/new starts a fresh one)")

    def add_notice(self, text: str, level: str = "info") -> None:
        """A note in the conversation, between blocks (never inside a streaming reply)."""
        self.fold.notice(text, level)

    def action_show_screen(self, name: str) -> None:
        entry = get_screen(name)
        if entry is not None:
            self.push_screen(entry.factory())

    def say(self, text: str, kind: str = "info") -> None:
        """A short message to the user: the flash line (errors stay a little longer)."""
        self.flash.show(text, kind, 4.0 if kind == "error" else 2.5)

    async def dispatch_slash(self, text: str) -> bool:
        from app.tui.slash import dispatch

        return await dispatch(self, text)

    # --- delegations: prompt flow (app/tui/prompt_flow.py) ---------------------------------------

    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        await self.flow.submitted(message.text)

    async def on_prompt_input_queued(self, message: PromptInput.Queued) -> None:
        await self.flow.queued(message.text)

    def on_prompt_input_recall_requested(self, _: PromptInput.RecallRequested) -> None:
        self.flow.recall()

    def on_prompt_input_inject_requested(self, _: PromptInput.InjectRequested) -> None:
        self.flow.open_inject()

    def on_prompt_input_pasted(self, message: PromptInput.Pasted) -> None:
        self.flow.attach(message.text)

    def on_prompt_input_drop_attachment(self, _: PromptInput.DropAttachment) -> None:
        self.flow.drop_attachment()

    async def run_slash(self, text: str) -> None:
        await self.flow.submitted(text)

    # --- delegations: sessions, models, themes (app/tui/session_ops.py) ---------------------------

    def action_sessions(self) -> None:
        self.ops.open_sessions()

    async def new_session(self) -> None:
        await self.ops.new_session()

    def resume_path(self, path: Path) -> None:
        self.ops.resume_later(path)

    def open_model_picker(self) -> None:
        # With the slot manager the picker chooses per slot; without it (replay, tests) the palette
        # switches the session's provider only.
        if self.stack is not None:
            from app.tui.model_ops import open_model_picker

            open_model_picker(self)
        else:
            self.ops.open_model_picker()

    async def switch_model(self, choice: str) -> None:
        await self.ops.switch_model(choice)

    def theme_names(self) -> list[str]:
        return self.ops.theme_names()

    def set_theme(self, name: str) -> None:
        self.ops.set_theme(name)
