"""Drawing first: the app's screen and prompt come up before the core is imported and the session
is built.

``nanobot`` hands the app a *boot* function instead of a session. The app draws its first frame
(the prompt takes keys from then on), then runs the function in a thread: it imports the core,
reads the config, builds the model slots and the session, and reads a resumed session's events.
The app then attaches the session (:meth:`app.tui.app.NanobotApp.attach`); what was typed in the
meantime is sent as soon as it is attached, in order. Loading the model itself happens after that,
in the background too, so the first turn does not pay for it when the user is still typing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.agent.session import Session
    from app.core.settings.config import Config
    from app.tui.app import NanobotApp


@dataclass
class Booted:
    """What a boot function returns: everything the app attaches."""

    session: Session
    config: Config | None = None
    stack: Any | None = None
    notices: list[str] = field(default_factory=list)
    resumed_events: list[Any] | None = None


Boot = Callable[[], Booted]


class BootError(Exception):
    """The session could not be built (bad config, missing model): the app exits with it."""


@dataclass
class Booting:
    boot: Boot | None
    done: bool = False
    error: str = ""


async def run_boot(app: NanobotApp) -> None:
    """The boot worker: build in a thread, attach on the UI thread, or exit with the error."""
    booting = app.booting
    assert booting is not None and booting.boot is not None
    try:
        booted = await asyncio.to_thread(booting.boot)
    except BootError as exc:
        booting.error = str(exc)
        app.exit(return_code=2, message=str(exc))
        return
    app.attach(booted.session, config=booted.config, stack=booted.stack, notices=booted.notices,
               resumed_events=booted.resumed_events)


async def preload_main_model(app: NanobotApp) -> None:
    """Load the main slot's model now rather than on the first message (in a thread: the
    manager's loader does not block the UI)."""
    stack = app.stack
    if stack is None or app.replay is not None:
        return
    try:
        await stack.manager.start("main")
    except Exception as exc:  # the first turn reports it again, with its own context
        app.say(f"The model did not load yet: {exc}", "warning")
