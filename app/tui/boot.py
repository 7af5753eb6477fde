"""Drawing first: the app's screen and prompt come up before the core is imported and the session
is built.

``nanobot`` hands the app a *boot* function instead of a session factory. The app draws its first
frame (the prompt takes keys from then on), then runs the function in a thread: it imports the
core, reads the config and builds the model slots and the session factory. The factory then opens
the session (a new one, or the resumed one with its events), in a thread too, and the app attaches
it (:meth:`app.tui.app.NanobotApp.attach`); what was typed in the meantime is sent as soon as it
is attached, in order. Loading the model itself happens after that,
in the background too, so the first turn does not pay for it when the user is still typing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.providers.stack import Stack
    from app.runtime.factory import Opened, SessionFactory
    from app.tui.app import NanobotApp


@dataclass
class Booted:
    """What a boot function returns: the factory of the app's sessions, the slot stack, notes
    for the user, the saved session to resume (None: a new one), and whether long-term memory
    keeps nothing from it (``nanobot --private``)."""

    factory: SessionFactory
    stack: Stack | None = None
    notices: list[str] = field(default_factory=list)
    resume: Path | None = None
    private: bool = False


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
        factory = app.asking(booted.factory)
        opened = await asyncio.to_thread(open_session, factory, booted.resume, booted.private)
    except BootError as exc:
        booting.error = str(exc)
        app.exit(return_code=2, message=str(exc))
        return
    except OSError as exc:  # the session to resume cannot be read, or is open elsewhere
        booting.error = f"error: could not open the session: {exc}"
        app.exit(return_code=2, message=booting.error)
        return
    app.attach(factory, opened, resume=booted.resume, stack=booted.stack,
               notices=booted.notices)


def open_session(factory: SessionFactory, resume: Path | None, private: bool = False) -> Opened:
    """A new session, or the one saved at ``resume`` (OSError when it cannot be read);
    ``private``: long-term memory keeps nothing from it (its notice joins the opened ones)."""
    opened = factory.resume(resume) if resume is not None else factory.new()
    if private and factory.memory is not None:
        opened.notices.append(factory.memory.set_private(opened.session, True))
    return opened


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
