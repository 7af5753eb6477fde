"""A session on a scripted provider with the harness, for the harness's tests: one place builds
it, as the app's one place (app/runtime/build.py) does for real sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.agent.events import Event
from app.core.agent.session import Session, SessionOptions
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools


def scripted_session(ws: Path, *replies: ScriptedReply | str,
                     capabilities: Capabilities | None = None,
                     **cfg: Any) -> tuple[Session, ScriptedProvider, list[Event]]:
    """A session in workspace ``ws`` whose model answers ``replies`` in turn, with the harness
    configured by ``cfg`` (HarnessConfig fields), every call approved, and its events listed."""
    provider = ScriptedProvider(replies)
    if capabilities is not None:
        provider.capabilities = capabilities
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(**cfg), ws))
    events: list[Event] = []
    session.add_listener(events.append)
    return session, provider, events
