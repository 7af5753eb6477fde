"""Session, model and theme switching for the App: /new, /sessions + resume, /model, /theme."""

from __future__ import annotations

import asyncio
import difflib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from themes import DEFAULT_THEME

if TYPE_CHECKING:  # the core's modules are imported where used: the app draws before they load
    from app.runtime.factory import Opened
    from app.tui.ports import SessionPort

log = logging.getLogger(__name__)


class SessionOps:
    def __init__(self, app: SessionPort) -> None:
        self.app = app

    # --- themes ------------------------------------------------------------------------------

    def initial_theme(self) -> tuple[str, str]:
        """The theme to start with, and a note for the user when the config's is unknown."""
        wanted = self.app.config.ui.theme or DEFAULT_THEME
        if wanted in self.app.available_themes:
            return wanted, ""
        return DEFAULT_THEME, f"unknown theme {wanted!r} in [ui] theme; using {DEFAULT_THEME}"

    def theme_names(self) -> list[str]:
        ours = [t for t in ("nanobot-dark", "nanobot-light") if t in self.app.available_themes]
        return ours + sorted(t for t in self.app.available_themes if t not in ours)

    def set_theme(self, name: str, *, persist: bool = True) -> bool:
        app = self.app
        name = name.strip()
        if name not in app.available_themes:
            close = difflib.get_close_matches(name, self.theme_names(), n=1)
            hint = f" Did you mean {close[0]}?" if close else ""
            app.say(f"Unknown theme {name!r}.{hint} /theme lists them.", "error")
            return False
        app.theme = name
        if not persist:
            return True
        try:
            from app.core.settings import config_edit

            config_edit.set_value("ui", "theme", name)
        except (config_edit.ConfigError, OSError) as exc:
            app.say(f"Theme {name} is on for now, but the config was not updated: {exc}", "error")
            return True
        app.say(f"Theme {name} (saved in the config)")
        return True

    # --- sessions ----------------------------------------------------------------------------

    def open_sessions(self) -> None:
        if not self.app.attached:
            self.app.say("Still starting: the sessions list opens in a moment.", "warning")
            return
        from app.core.store.session_store import list_sessions
        from app.runtime.sessions import sessions_dir
        from app.tui.screens.sessions import SessionsScreen

        infos = list_sessions(sessions_dir())

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.resume_later(path)

        self.app.push_screen(SessionsScreen(infos, self.app.session.session_id), chosen)

    def resume_later(self, path: Path) -> None:
        self.app.run_worker(self.resume(path), group="switch", exit_on_error=False)

    def _refuse_while_busy(self, what: str) -> bool:
        if not self.app.attached:
            self.app.say(f"Still starting: try {what} in a moment.", "warning")
            return True
        if self.app.busy:
            self.app.say(f"A turn is running: cancel it (Esc Esc) before {what}.", "warning")
            return True
        return False

    async def resume(self, path: Path) -> None:
        if self._refuse_while_busy("resuming a session"):
            return
        if self.app.session.store is not None and self.app.session.store.path == path:
            self.app.say("That is the session you are in.")
            return
        try:
            opened = self.app.factory.resume(path, provider=self.app.session.provider)
        except OSError as exc:
            self.app.say(f"Could not open {path.name}: {exc}", "error")
            return
        await self._switch(opened, f"Resumed {path.stem}")
        note = opened.damage_note(path.name)
        if note:
            self.app.add_notice(note, "warning")

    async def new_session(self) -> None:
        if self._refuse_while_busy("starting a new session"):
            return
        opened = self.app.factory.new(provider=self.app.session.provider)
        await self._switch(opened, "New session")

    async def _switch(self, opened: Opened, message: str) -> None:
        app = self.app
        old, new = app.session, opened.session
        new.thinking_budget = old.thinking_budget
        await app.show_session(new, opened.events)
        if old.swarm is not None:  # nobody could see or stop the old session's workers
            await old.swarm.aclose("the user left the session")
        if old.store is not None:
            old.store.close()
        for note in opened.notices:
            app.add_notice(note, "warning")
        app.say(message)

    # --- models --------------------------------------------------------------------------------

    def open_model_picker(self) -> None:
        from textual.command import CommandPalette

        from app.tui.commands import ModelsProvider

        self.app.push_screen(CommandPalette(providers=[ModelsProvider],
                                            placeholder="Pick a model…"))

    async def switch_model(self, choice: str) -> None:
        app = self.app
        if self._refuse_while_busy("switching models"):
            return
        app.say(f"Loading {choice}…")
        try:
            from app.core.models.embedded import EmbeddedModelError
            from app.core.providers.registry import ProviderSetupError, build_provider

            selection = await asyncio.to_thread(build_provider, app.config, choice)
        except (ProviderSetupError, EmbeddedModelError, OSError, ValueError) as exc:
            app.say(f"Could not switch to {choice}: {exc}", "error")
            return
        old = app.session.provider
        app.session.set_provider(selection.provider)
        for note in selection.notices:
            app.add_notice(note, "warning")
        app.model_changed()
        app.say(f"Model: {selection.provider.model}")
        if old is not selection.provider:
            try:
                await old.aclose()
            except Exception:  # the old model's cleanup must not break the switch
                log.exception("closing the previous provider failed")

