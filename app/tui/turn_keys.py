"""The App's keys for the running turn: Esc Esc cancels it, Ctrl+C copies a selection, cancels,
or (twice) quits, and thinking is switched on and off; plus which registered actions are offered.

A mixin of :class:`app.tui.app.NanobotApp` (Textual finds actions and watchers through the class's
MRO), kept apart so the App module stays about wiring.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from app.tui import actions
from app.tui.turn_state import IDLE, TurnState

if TYPE_CHECKING:
    from textual.app import App
    from textual.reactive import reactive

    from app.core.agent.session import Session
    from app.tui.bridge import SessionBridge
    from widgets.conversation import Conversation
    from widgets.flash import Flash

    _AppBase = App[None]  # the App it is mixed into; at run time a plain class
else:
    _AppBase = object

DOUBLE_PRESS_SECONDS = 2.0


class TurnKeys(_AppBase):
    if TYPE_CHECKING:  # provided by the App
        thinking: reactive[bool]
        busy: reactive[bool]
        turn_state: reactive[TurnState]
        session: Session
        bridge: SessionBridge
        conversation: Conversation
        flash: Flash
        ready: bool
        _esc_at: float
        _ctrl_c_at: float
        _key_time: float

        @property
        def attached(self) -> bool: ...

        def say(self, text: str, kind: str = "info") -> None: ...

        def refresh_status(self) -> None: ...

        def copy_text(self, text: str, what: str) -> None: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":  # hidden (and Esc free for other uses) when nothing runs
            return self.busy and self.turn_state != IDLE
        return True

    def run_registered_action(self, action_id: str) -> None:
        spec = actions.get(action_id)
        if spec is not None:
            self.run_worker(self.run_action(spec.action), exit_on_error=False)

    def _press_time(self) -> float:
        return self._key_time or time.monotonic()

    def action_cancel(self) -> None:
        now = self._press_time()
        if self._esc_at and now - self._esc_at <= DOUBLE_PRESS_SECONDS:
            self._esc_at = 0.0
            self.cancel_turn()
            return
        self._esc_at = now
        self.flash.show("Press Esc again to cancel the turn", "warning",
                                   DOUBLE_PRESS_SECONDS)

    def action_interrupt(self) -> None:
        selected = self.screen.get_selected_text()
        if selected:  # Ctrl+C with a mouse selection copies, as in a terminal
            self.screen.clear_selection()
            self.copy_text(selected, "selection")
            return
        if self.busy:
            self.cancel_turn()
            return
        now = self._press_time()
        if self._ctrl_c_at and now - self._ctrl_c_at <= DOUBLE_PRESS_SECONDS:
            self.exit()
            return
        self._ctrl_c_at = now
        self.flash.show("Press Ctrl+C again to quit", "warning", DOUBLE_PRESS_SECONDS)

    def cancel_turn(self) -> bool:
        took = self.bridge.cancel()
        if not took and self.busy:  # the worker had not reached the session yet
            self.workers.cancel_group(self, "turn")
            took = True
        if took:
            self.turn_state = TurnState("cancelling")
            self.flash.show("Cancelling…", "warning", 1.0)
        else:
            self.flash.show("Nothing to cancel", "info", 1.0)
        self.refresh_status()
        return took

    def action_toggle_thinking(self) -> None:
        self.set_thinking(not self.thinking)
        self.say(f"thinking {'on' if self.thinking else 'off'} for the next request")

    def set_thinking(self, on: bool, budget: int | None = None) -> None:
        self.thinking = on
        if self.attached:
            self.bridge.set_thinking(on, budget if on else None)
        self.refresh_status()

    def watch_thinking(self, on: bool) -> None:
        if self.attached:
            self.session.thinking = on
        self._apply_thinking_class()
        if self.ready:
            self.refresh_status()

    def _apply_thinking_class(self) -> None:
        # Shown or not by the view (a flag, no CSS class: a class change restyles the whole row).
        if self.ready:
            self.conversation.show_thinking = self.thinking
