"""Command-palette provider for models: switch a slot, unload, /local, doctor, dashboard.

Add it to the app's palette with ``COMMANDS = App.COMMANDS | {ModelCommandsProvider}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.core.models.commands import ModelCommand
from app.core.settings.config import SLOTS

if TYPE_CHECKING:
    from app.tui.ports import CommandPort


class ModelCommandsProvider(Provider):
    def _commands(self) -> list[tuple[str, Callable[[], Awaitable[object] | None], str]]:
        from app.tui import model_ops

        app = cast("CommandPort", self.app)
        out: list[tuple[str, Callable[[], Awaitable[object] | None], str]] = [
            ("Models: pick a model for a slot", partial(model_ops.open_model_picker, app),
             "choose main, rlm or memory and a model for it"),
            ("Models: switch main between local and cloud (/local)",
             partial(model_ops.local_slash, app), "flip the main slot"),
            ("Models: dashboard", partial(model_ops.open_dashboard, app),
             "CPU, RAM, GPUs and slots"),
            ("Models: doctor", partial(model_ops.open_doctor, app),
             "environment, hardware, fits, providers"),
        ]
        stack = app.stack
        if stack is None:
            return out
        for slot in SLOTS:
            out.append((f"Models: unload {slot}",
                        partial(model_ops.run_model_command, app, ModelCommand("unload", slot)),
                        "free its memory; it loads again when used"))
        for opt in model_ops.picker_options(stack):
            for slot in (("main",) if opt.main_only else SLOTS):
                out.append((f"Models: {slot} ← {opt.label}",
                            partial(model_ops.run_model_command, app,
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
