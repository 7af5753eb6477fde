"""Extension points of the turn loop, so features live in their own modules.

A hook is handed to the :class:`~app.core.agent.session.Session` constructor, which calls
:meth:`SessionHook.attach` once with itself. The session then calls every hook at five points:
when a turn starts (and, awaited, right after it), before each model step (a hook may hand back
messages to commit, e.g. a worker's result), when the request is built (a hook may rewrite what the
model sees: a summary, stubs, a status block) and when a turn ends. A hook that raises is logged
and skipped: a broken feature never breaks a turn.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.core.agent.messages import Message

if TYPE_CHECKING:
    from app.core.agent.session import Session

log = logging.getLogger(__name__)


class SessionHook:
    """Override what you need; every method is a no-op by default."""

    def attach(self, session: Session) -> None:
        """Called once, by the constructor of the session this hook belongs to."""

    def turn_started(self, session: Session, turn_id: str) -> None:
        """Called before the turn's user message is committed (a turn boundary)."""

    async def before_turn(self, session: Session, turn_id: str) -> None:
        """Awaited after :meth:`turn_started`, before the first step: for work the turn needs
        done first (start the MCP servers whose tools it may call). Esc Esc cancels the turn
        meanwhile through ``session``'s cancel token, which a long wait should watch."""

    def before_step(self, session: Session, turn_id: str) -> list[Message]:
        """Messages to commit before the next model step (delivered like steer messages)."""
        return []

    def prepare(self, session: Session, messages: list[Message]) -> list[Message]:
        """Rewrite the messages of the next request; history itself is never changed."""
        return messages

    def turn_ended(self, session: Session, turn_id: str) -> None:
        """Called after the turn is over and the session is idle again (a turn boundary)."""


def run_turn_started(session: Session, turn_id: str) -> None:
    for hook in list(session.hooks):
        try:
            hook.turn_started(session, turn_id)
        except Exception:
            log.exception("hook %s failed at turn start", type(hook).__name__)


async def run_before_turn(session: Session, turn_id: str) -> None:
    for hook in list(session.hooks):
        try:
            await hook.before_turn(session, turn_id)
        except Exception:
            log.exception("hook %s failed before the turn", type(hook).__name__)


def run_before_step(session: Session, turn_id: str) -> list[Message]:
    out: list[Message] = []
    for hook in list(session.hooks):
        try:
            out.extend(hook.before_step(session, turn_id))
        except Exception:
            log.exception("hook %s failed before a step", type(hook).__name__)
    return out


def run_prepare(session: Session, messages: list[Message]) -> list[Message]:
    for hook in list(session.hooks):
        try:
            messages = hook.prepare(session, messages)
        except Exception:
            log.exception("hook %s failed to prepare the request", type(hook).__name__)
    return messages


def run_turn_ended(session: Session, turn_id: str) -> None:
    for hook in list(session.hooks):
        try:
            hook.turn_ended(session, turn_id)
        except Exception:
            log.exception("hook %s failed at turn end", type(hook).__name__)
