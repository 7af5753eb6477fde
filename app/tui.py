"""The Textual app: wires panes, keys and the session bridge."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header

from app.bridge import CoreEvent, SessionBridge
from app.core.events import (
    ErrorReported,
    Notice,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    TurnFinished,
)
from app.core.session import Session
from app.screens.processes import ProcessesScreen, announce_processes
from widgets.conversation import Conversation
from widgets.prompt_input import PromptInput


class NanobotApp(App[None]):
    TITLE = "Nanobot"
    AUTO_FOCUS = "#prompt"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("ctrl+t", "toggle_thinking", "Thinking"),
        Binding("ctrl+q", "quit", "Quit"),
        Binding("f6", "processes", "Processes", show=False),
    ]

    def __init__(self, session: Session, *, notices: list[str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.bridge = SessionBridge(self, session)
        self._startup_notices = notices or []

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Conversation(id="conversation")
        yield PromptInput(id="prompt")
        yield Footer()

    async def on_mount(self) -> None:
        self.sub_title = self.session.provider.model
        conv = self.query_one(Conversation)
        for note in self._startup_notices:
            await conv.add_notice(note, "warning")
        announce_processes(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.bridge.running
        return True

    async def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
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
        elif isinstance(ev, Notice):
            await conv.add_notice(ev.text, ev.level)
        elif isinstance(ev, ErrorReported):
            await conv.add_notice(ev.message, "warning")
        elif isinstance(ev, TurnFinished):
            await conv.end_assistant()
        elif isinstance(ev, TurnCancelled):
            await conv.end_assistant(cancelled=True)
            await conv.add_notice("■ cancelled", "warning")
        elif isinstance(ev, TurnFailed):
            await conv.end_assistant()
            await conv.add_notice(f"error: {ev.error}", "error")
        self.refresh_bindings()

    def action_cancel(self) -> None:
        self.bridge.cancel()

    def action_processes(self) -> None:
        self.push_screen(ProcessesScreen())

    def action_toggle_thinking(self) -> None:
        self.bridge.set_thinking(not self.session.thinking)
        self.notify(f"thinking {'on' if self.session.thinking else 'off'}")
