"""Command-palette provider for models: switch a slot, unload, /local, doctor, dashboard.

Add it to the app's palette with ``COMMANDS = App.COMMANDS | {ModelCommandsProvider}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.core.models.commands import ModelCommand
from app.core.settings.config import SLOTS


class ModelCommandsProvider(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], Awaitable[object] | None], str]]:
        from app.tui import model_ops as ui_models

        app = self.app
        out: list[tuple[str, Callable[[], Awaitable[object] | None], str]] = [
            ("Models: pick a model for a slot", partial(ui_models.open_model_picker, app),
             "choose main, rlm or memory and a model for it"),
            ("Models: switch main between local and cloud (/local)",
             partial(ui_models.handle_slash, app, "/local"), "flip the main slot"),
            ("Models: dashboard", partial(ui_models.open_dashboard, app),
             "CPU, RAM, GPUs and slots"),
            ("Models: doctor", partial(ui_models.handle_slash, app, "/doctor"),
             "environment, hardware, fits, providers"),
        ]
        stack = getattr(app, "stack", None)
        if stack is None:
            return out
        for slot in SLOTS:
            out.append((f"Models: unload {slot}",
                        partial(ui_models.run_model_command, app, ModelCommand("unload", slot)),
                        "free its memory; it loads again when used"))
        for opt in ui_models.picker_options(stack):
            for slot in (("main",) if opt.main_only else SLOTS):
                out.append((f"Models: {slot} ← {opt.label}",
                            partial(ui_models.run_model_command, app,
                                    ModelCommand("switch", slot, opt.target)), opt.target))
        return out

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands()[:4]:
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
