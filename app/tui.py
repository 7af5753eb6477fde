"""The Textual app: wires panes, keys and the session bridge."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header

from app.bridge import CoreEvent, SessionBridge
from app.commands_models import ModelCommandsProvider
from app.core.events import (
    ErrorReported,
    Notice,
    ReplyRestarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
)
from app.core.session import Session
from app.core.swarm_events import SwarmUpdated
from app.screens.volumes import VolumesScreen
from app.ui_models import handle_slash, open_dashboard, open_model_picker, start_managed_servers
from widgets.conversation import Conversation
from widgets.prompt_input import PromptInput
from widgets.swarm_tree import SwarmTree
from widgets.worker_transcript import WorkerTranscript


class NanobotApp(App[None]):
    TITLE = "Nanobot"
    COMMANDS = App.COMMANDS | {ModelCommandsProvider}  # models palette (issue 5)
    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("ctrl+t", "toggle_thinking", "Thinking"),
        Binding("f2", "dashboard", "Dashboard", show=False),
        Binding("ctrl+q", "quit", "Quit"),
        Binding("ctrl+o", "volumes", "Volumes", show=False),
    ]

    def __init__(self, session: Session, *, notices: list[str] | None = None,
                 stack: object | None = None) -> None:
        super().__init__()
        self.session = session
        self.stack = stack  # app.core.provider_stack.Stack: slots, registry, router (issue 5)
        self.bridge = SessionBridge(self, session)
        self._startup_notices = notices or []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Conversation(id="conversation")
        yield SwarmTree(id="swarm")  # hidden until a worker exists
        yield PromptInput(id="prompt")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.session.provider.model
        conv = self.query_one(Conversation)
        for note in self._startup_notices:
            await conv.add_notice(note, "warning")
        self.run_worker(start_managed_servers(self), group="model-load", exit_on_error=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.bridge.running
        return True

    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        if message.text.strip() == "/compact":
            await self.query_one(Conversation).add_notice(f"compact: {self.bridge.compact()}")
            return
        if message.text.startswith("/") and await handle_slash(self, message.text):
            return  # /model, /local, /doctor, /dashboard (issue 5)
        if self.bridge.running:
            self.bridge.inject(message.text)
            await self.query_one(Conversation).add_notice(f"↪ steer: {message.text}")
            return
        await self.query_one(Conversation).add_user(message.text)
        self.run_turn(message.text)

    @work(group="turn", exclusive=True, exit_on_error=False)
    async def run_turn(self, text: str) -> None:
        await self.bridge.submit(text)

    async def on_core_event(self, message: CoreEvent) -> None:
        ev = message.event
        conv = self.query_one(Conversation)
        if isinstance(ev, TextDelta):
            (await conv.assistant()).append_text(ev.text)
        elif isinstance(ev, ToolCallStarted):
            await conv.end_assistant()
            await conv.add_notice(f"⚙ {ev.label or ev.name}", "tool")
        elif isinstance(ev, ToolCallFinished):
            if ev.is_error:
                await conv.add_notice(f"  ✗ {ev.content.splitlines()[0]}", "error")
        elif isinstance(ev, ReplyRestarted):  # a fallback provider starts the reply again
            await conv.end_assistant(cancelled=True)
        elif isinstance(ev, Notice):
            await conv.add_notice(ev.text, ev.level)
        elif isinstance(ev, ErrorReported):
            await conv.add_notice(ev.message, "warning")
        elif isinstance(ev, TurnFinished):
            await conv.end_assistant()
        elif isinstance(ev, TurnCancelled):
            await conv.end_assistant(cancelled=True)
            await conv.add_notice("■ cancelled", "warning")
        elif isinstance(ev, SwarmUpdated):
            self.query_one(SwarmTree).show(ev.snapshot)
            if isinstance(self.screen, WorkerTranscript):
                await self.screen.show(self.bridge.worker_transcript(self.screen.worker_id))
        elif isinstance(ev, TurnFailed):
            await conv.end_assistant()
            await conv.add_notice(f"error: {ev.error}", "error")
        self.refresh_bindings()

    def on_swarm_tree_cancel_requested(self, message: SwarmTree.CancelRequested) -> None:
        stopped = self.bridge.cancel_worker(message.worker_id)
        self.notify(f"cancelling {', '.join(stopped) or message.worker_id}")

    def on_swarm_tree_transcript_requested(self, message: SwarmTree.TranscriptRequested) -> None:
        row = next(r for r in self.query_one(SwarmTree).snapshot.rows
                   if r.id == message.worker_id)
        self.push_screen(WorkerTranscript(row.id, f"{row.id} · {row.label} · {row.model}",
                                          self.bridge.worker_transcript(row.id)))
    def action_dashboard(self) -> None:
        open_dashboard(self)

    def open_model_picker(self) -> None:
        open_model_picker(self)

    def action_cancel(self) -> None:
        self.bridge.cancel()

    def action_volumes(self) -> None:
        self.push_screen(VolumesScreen())

    def action_toggle_thinking(self) -> None:
        self.bridge.set_thinking(not self.session.thinking)
        self.notify(f"thinking {'on' if self.session.thinking else 'off'}")
