"""What the App's helpers may touch: one narrow protocol per helper, instead of the whole App.

:class:`~app.tui.app.NanobotApp` implements all of them (mypy checks it wherever it passes
itself). A helper that needs something new adds it to its port, so what each part of the UI can
reach stays written down in one place:

- :class:`CommandPort`: slash-command handlers, command-palette providers, ``/model``-style
  commands (``app/tui/slash.py``, ``panes.py``, ``commands.py``, ``commands_models.py``,
  ``model_ops.py``).
- :class:`PromptPort`: the prompt flow (``app/tui/prompt_flow.py``): send, steer, queue, recall.
- :class:`SessionPort`: session, model and theme switching (``app/tui/session_ops.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
    from textual.worker import Worker

    from app.core.agent.events import Event
    from app.core.agent.session import Session
    from app.core.providers.replay import ReplayProvider
    from app.core.providers.stack import Stack
    from app.core.settings.config import Config
    from app.core.store.pending import PendingStore
    from app.runtime.factory import SessionFactory
    from app.tui.bridge import SessionBridge
    from widgets.pending_strip import PendingStrip
    from widgets.prompt_input import PromptInput


class Shell(Protocol):
    """What every helper may use: tell the user, open a screen, run work in the background."""

    def say(self, text: str, kind: str = "info") -> None:
        """A short message on the flash line."""

    def add_notice(self, text: str, level: str = "info") -> None:
        """A line in the conversation (it stays, unlike :meth:`say`)."""

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], Any] | None = None,
                    ) -> Any: ...

    def run_worker(self, work: Coroutine[Any, Any, Any], name: str | None = "",
                   group: str = "default", description: str = "",
                   exit_on_error: bool = True) -> Worker[Any]: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...


class CommandPort(Shell, Protocol):
    """What slash commands, palette entries and model commands may read and do."""

    @property
    def session(self) -> Session: ...

    @property
    def stack(self) -> Stack | None: ...

    @property
    def factory(self) -> SessionFactory:
        """Where sessions come from; ``factory.project`` holds instructions, skills, MCP."""

    @property
    def config(self) -> Config: ...

    @property
    def keymap(self) -> dict[str, str]: ...

    @property
    def thinking(self) -> bool: ...

    @property
    def theme(self) -> str: ...

    def set_thinking(self, on: bool, budget: int | None = None) -> None: ...

    def open_model_picker(self) -> None: ...

    async def switch_model(self, choice: str) -> None: ...

    def model_changed(self) -> None:
        """The session's provider changed (``/model``, ``/local``): update what shows it."""

    def action_sessions(self) -> None: ...

    async def new_session(self) -> None: ...

    def resume_path(self, path: Path) -> None: ...

    async def action_clear_view(self, also: str = "") -> None:
        """Clear the view; ``also``: what else went with it, for the notice."""

    def action_help(self) -> None: ...

    def theme_names(self) -> list[str]: ...

    def set_theme(self, name: str) -> None: ...

    def run_registered_action(self, action_id: str) -> None: ...

    def action_show_screen(self, name: str) -> None: ...

    async def run_slash(self, text: str) -> None: ...

    def copy_last(self, what: str = "") -> None:
        """/copy: the last reply, or (``code``) its last code block, to the clipboard."""


class PromptPort(Shell, Protocol):
    """What the prompt flow may read and do."""

    busy: bool
    pending: PendingStore
    attachments: list[str]

    @property
    def session(self) -> Session: ...

    @property
    def bridge(self) -> SessionBridge: ...

    @property
    def replay(self) -> ReplayProvider | None: ...

    @property
    def ready(self) -> bool: ...

    @property
    def attached(self) -> bool:
        """The session is there (False while the app is still starting)."""

    @property
    def prompt(self) -> PromptInput: ...

    @property
    def strip(self) -> PendingStrip: ...

    def context_estimate(self) -> tuple[int, int]: ...

    def refresh_status(self) -> None: ...

    async def dispatch_slash(self, text: str) -> bool:
        """Run ``text`` as a slash command; False when it is not one."""


class SessionPort(Shell, Protocol):
    """What session, model and theme switching may read and do."""

    theme: str

    @property
    def session(self) -> Session: ...

    @property
    def factory(self) -> SessionFactory: ...

    @property
    def attached(self) -> bool: ...

    @property
    def busy(self) -> bool: ...

    @property
    def config(self) -> Config: ...

    @property
    def available_themes(self) -> dict[str, Any]: ...

    async def show_session(self, session: Session, events: list[Event]) -> None:
        """Make ``session`` the one on screen, its view rebuilt from ``events``."""

    def model_changed(self) -> None: ...
