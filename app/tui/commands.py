"""Command palette (Ctrl+P) providers: actions, slash commands, models, sessions, themes."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.core.models.embedded import catalog
from app.core.store.session_store import list_sessions
from app.runtime.sessions import sessions_dir
from app.tui import actions, slash
from app.tui.screens import screens

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

Entry = tuple[str, str, Callable[[], Any]]  # (title, help, callback)


class _ListProvider(Provider):
    """Turns :meth:`entries` into hits: all of them on an empty query, fuzzy matches otherwise."""

    @property
    def nano(self) -> CommandPort:
        return cast("CommandPort", self.app)

    def entries(self) -> list[Entry]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, help_text, callback in self.entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


class ActionsProvider(_ListProvider):
    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for spec in actions.actions():
            if spec.palette:
                keys = actions.keys_for(spec, self.nano.keymap)
                out.append((spec.description, f"{spec.group} · {keys}",
                            partial(self.nano.run_registered_action, spec.id)))
        for entry in screens():
            out.append((f"Open {entry.title}", entry.description or "pane",
                        partial(self.nano.action_show_screen, entry.name)))
        return out


class SlashProvider(_ListProvider):
    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for cmd in slash.commands():
            for variant in cmd.palette:
                text = f"/{cmd.name} {variant}".strip()
                out.append((text, cmd.help, partial(self.nano.run_slash, text)))
        return out


class ModelsProvider(_ListProvider):
    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for mid, model in catalog().items():
            out.append((f"Model: {mid}", f"embedded · {model.title}",
                        partial(self.nano.run_slash, f"/model {mid}")))
        for name, pconf in self.nano.config.providers.items():
            for m in pconf.models or ("",):
                choice = f"{name}:{m}" if m else name
                out.append((f"Model: {choice}", f"provider {name} · {pconf.base_url}",
                            partial(self.nano.run_slash, f"/model {choice}")))
        return out


class SessionsProvider(_ListProvider):
    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for info in list_sessions(sessions_dir())[:50]:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
            out.append((f"Resume: {info.title[:60]}", f"{when} · {info.model} · {info.session_id}",
                        partial(self.nano.resume_path, info.path)))
        return out


class ThemesProvider(_ListProvider):
    def entries(self) -> list[Entry]:
        return [(f"Theme: {name}", "switch and remember", partial(self.nano.set_theme, name))
                for name in self.nano.theme_names()]


PROVIDERS: set[type[Provider] | Callable[[], type[Provider]]] = {
    ActionsProvider, SlashProvider, ModelsProvider, SessionsProvider, ThemesProvider}
