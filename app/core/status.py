"""Status injection (N6): each request ends with a short block about this session's workers.

The block comes from the swarm's in-memory registry (never from re-reading the log), lists running
workers and up to three recently finished ones, and is left out when there is nothing to say. It
goes at the *end* of the request, so a model's prompt cache keeps the unchanged prefix. The same
hook delivers finished workers' results to their parent as messages at its next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.hooks import SessionHook
from app.core.messages import Message

if TYPE_CHECKING:
    from app.core.session import Session
    from app.core.swarm import Swarm

HEADER = ("Background status (live, from the worker registry; use it to answer questions about "
          "background work without calling a tool):")


def status_block(lines: list[str]) -> str:
    return HEADER + "\n" + "\n".join(lines) if lines else ""


class SwarmHook(SessionHook):
    def __init__(self, swarm: Swarm, owner: str | None) -> None:
        self.swarm = swarm
        self.owner = owner

    def before_step(self, session: Session, turn_id: str) -> list[Message]:
        return self.swarm.take_reports(self.owner)

    def prepare(self, session: Session, messages: list[Message]) -> list[Message]:
        block = status_block(self.swarm.status_lines(self.owner))
        if not block:
            return messages
        return [*messages, Message(role="notice", content=block)]
