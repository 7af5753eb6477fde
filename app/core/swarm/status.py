"""Status injection: each request carries a short block about this session's workers.

The block comes from the swarm's in-memory registry (never from re-reading the log), lists running
workers and up to three recently finished ones, and is left out when there is nothing to say. It is
appended to the system prompt, as Spacebot does: measured on the default 0.5B model, a status block
at the end of the request (as a notice, or as a trailing system message) still had it call tools
for "is the worker finished?", while the same block in the system prompt was answered directly.
The price is that a prompt cache is re-used only up to the system prompt while the status changes.
The same hook delivers finished workers' results to their parent as messages at its next step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.agent.hooks import SessionHook
from app.core.agent.messages import Message

if TYPE_CHECKING:
    from app.core.agent.session import Session
    from app.core.swarm.swarm import Swarm

HEADER = ("## Background status\nLive status of your background workers. Answer questions about "
          "them from this list, without calling a tool:")


def status_lines(swarm: Swarm, owner: str | None, *, recent: int = 3,
                 recent_s: float = 600.0) -> list[str]:
    """Running workers under ``owner`` and up to ``recent`` that ended in the last ``recent_s``."""
    now, wall = swarm.clock(), swarm.wall()
    mine = [w for w in swarm.workers.values() if swarm.owned_by(owner, w.id)]
    lines = []
    for w in mine:
        if not w.final:
            tool = f", running {w.tool}" if w.tool else ""
            lines.append(f"- {w.state.upper()}: {w.label} (id {w.id}, {w.model}, "
                         f"{w.elapsed(now):.0f}s, {w.iterations}/{w.budget.max_iterations} "
                         f"rounds{tool})")
    done = sorted((w for w in mine if w.final and wall - w.finished_wall <= recent_s),
                  key=lambda w: w.finished_wall, reverse=True)[:recent]
    for w in done:
        result = " ".join(w.result.split())
        result = result if len(result) <= 160 else result[:159] + "…"
        why = f" ({w.stop_reason})" if w.stop_reason and w.state != "done" else ""
        lines.append(f"- {w.state.upper()}{why}: {w.label} (id {w.id}, "
                     f"{w.elapsed(w.finished):.0f}s): {result or w.error or '(no text)'}")
    return lines


def status_block(lines: list[str]) -> str:
    return HEADER + "\n" + "\n".join(lines) if lines else ""


class SwarmHook(SessionHook):
    """A session's seat in the worker tree: ``owner`` is its worker id (None: the root session).

    It delivers finished workers' results to the session and puts the status block in its
    requests; the spawn tool bound to the same seat starts and manages its workers.
    """

    def __init__(self, swarm: Swarm, owner: str | None) -> None:
        self.swarm = swarm
        self.owner = owner

    def attach(self, session: Session) -> None:
        if self.owner is None:
            self.swarm.attach_root(session)

    def before_step(self, session: Session, turn_id: str) -> list[Message]:
        return self.swarm.take_reports(self.owner)

    def prepare(self, session: Session, messages: list[Message]) -> list[Message]:
        block = status_block(self.swarm.status_lines(self.owner))
        if not block:
            return messages
        if messages and messages[0].role == "system":
            first = messages[0]
            return [first.with_content(f"{first.content}\n\n{block}"), *messages[1:]]
        return [Message(role="system", content=block), *messages]
