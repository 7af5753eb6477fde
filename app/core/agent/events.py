"""Everything the core reports, as frozen dataclasses.

Each event carries the ``turn_id`` of the turn it belongs to, so a view can drop late chunks of a turn
that was already cancelled. Events round-trip through :func:`to_record` / :func:`from_record`, which is
how session files store them and how the replay provider feeds them back.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from app.core.agent.messages import Message


@dataclass(frozen=True)
class Event:
    turn_id: str
    ts: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True)
class SessionStarted(Event):
    session_id: str
    model: str
    provider: str
    title: str = ""


@dataclass(frozen=True)
class TurnStarted(Event):
    text: str
    model: str = ""


@dataclass(frozen=True)
class MessageAdded(Event):
    """A message committed to history (user, assistant, tool result, notice, summary)."""

    message: Message


@dataclass(frozen=True)
class TextDelta(Event):
    text: str


@dataclass(frozen=True)
class ReasoningDelta(Event):
    text: str


@dataclass(frozen=True)
class ToolCallStarted(Event):
    call_id: str
    name: str
    arguments: dict[str, Any]
    label: str = ""
    # The harness made this call before the first model step (a file the request names), so the
    # user sees what the model was shown.
    grounded: bool = False
    # The vote that chose this call, e.g. "3/3" (winner's votes / counted votes); "" = no vote.
    votes: str = ""


@dataclass(frozen=True)
class ToolCallFinished(Event):
    call_id: str
    name: str
    content: str
    is_error: bool = False
    duration: float = 0.0
    label: str = ""  # one line for the conversation: "Read app.py (120 lines)", "Refused: …"


@dataclass(frozen=True)
class Usage(Event):
    prompt_tokens: int
    completion_tokens: int
    context_used: int
    context_limit: int


@dataclass(frozen=True)
class Notice(Event):
    text: str
    level: str = "info"


@dataclass(frozen=True)
class ReplyRestarted(Event):
    """The reply streamed so far is void: its provider failed and another one starts again
    (``withdrawn`` False), or the answer check withdrew it (True). Views end the current
    assistant block, marked accordingly, before new text arrives."""

    reason: str
    withdrawn: bool = False


@dataclass(frozen=True)
class ReplySteered(Event):
    """The reply was stopped mid-text because the user steered: what was written so far is kept
    (marked as steered), the steer follows as an :class:`Injected`, and the model goes on."""

    partial_text: str


@dataclass(frozen=True)
class Injected(Event):
    """A steer message was delivered to the running turn."""

    text: str


@dataclass(frozen=True)
class ErrorReported(Event):
    """Something went wrong but the turn goes on (a malformed tool call, a retried request)."""

    message: str


@dataclass(frozen=True)
class TurnFinished(Event):
    text: str
    iterations: int = 1


@dataclass(frozen=True)
class TurnCancelled(Event):
    partial_text: str
    reason: str = "cancelled"


@dataclass(frozen=True)
class TurnFailed(Event):
    error: str


_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (SessionStarted, TurnStarted, MessageAdded, TextDelta, ReasoningDelta,
                ToolCallStarted, ToolCallFinished, Usage, Notice, Injected, ErrorReported,
                TurnFinished, TurnCancelled, TurnFailed, ReplyRestarted, ReplySteered)
}


def register_event(cls: type[Event]) -> type[Event]:
    """Make an event type from another core module known to :func:`from_record`."""
    _TYPES[cls.__name__] = cls
    return cls


def to_record(event: Event) -> dict[str, Any]:
    rec: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        rec[f.name] = value.to_dict() if isinstance(value, Message) else value
    return rec


def from_record(rec: dict[str, Any]) -> Event:
    """Rebuild an event; raises ``ValueError`` for unknown types or missing fields."""
    cls = _TYPES.get(str(rec.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {rec.get('type')!r}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in rec:
            continue
        value = rec[f.name]
        if f.name == "message" and isinstance(value, dict):
            value = Message.from_dict(value)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad {cls.__name__} record: {exc}") from exc
