"""A scripted provider that answers each worker from its own queue, so concurrent workers stay
deterministic: the queue is chosen by the first word of the request's first user message."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.events import Event
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import Approver
from app.core.providers.base import Provider, ProviderEvent, ProviderRequest
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config, SwarmConfig
from app.core.swarm.swarm import Swarm
from app.core.tools.files import default_tools
from app.runtime.factory import (
    DEFAULT_FEATURES,
    SessionFactory,
    install_compaction,
    install_swarm,
)


class KeyedProvider(ScriptedProvider):
    def __init__(self, *, model: str = "scripted", context_window: int = 32768) -> None:
        super().__init__(model=model, context_window=context_window)
        self.by_key: dict[str, deque[ScriptedReply]] = {}
        self.seen: dict[str, asyncio.Event] = {}

    def script(self, key: str, *replies: ScriptedReply | str) -> None:
        queue = self.by_key.setdefault(key, deque())
        for r in replies:
            queue.append(ScriptedReply.text(r) if isinstance(r, str) else r)

    def key_seen(self, key: str) -> asyncio.Event:
        return self.seen.setdefault(key, asyncio.Event())

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        first = next((m.content for m in request.messages if m.role == "user"), "")
        asked = first.rsplit("\n\n", 1)[-1]  # the request itself, after any workspace map
        key = asked.split()[0].rstrip(":") if asked.split() else ""
        queue = self.by_key.get(key)
        if queue:
            self.replies.appendleft(queue.popleft())
        self.key_seen(key).set()
        async for ev in super().stream(request, cancel):
            yield ev


def gated(text: str) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=[text[:3], text[3:]], gate_at=1, gate=gate), gate


def root_factory(tmp_path: Path, *, max_iterations: int = 20,
                 config: SwarmConfig | None = None, store: bool = True,
                 provider: KeyedProvider | None = None, approver: Approver | None = None,
                 provider_for: Callable[[str], Provider] | None = None,
                 clock: Callable[[], float] | None = None,
                 ) -> tuple[SessionFactory, KeyedProvider]:
    """The session factory, as the app builds it, on a keyed scripted model; file tools in a
    workspace holding ``notes.txt``."""
    provider = provider or KeyedProvider()
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "notes.txt").write_text("the code word is PLUM\n")
    features = DEFAULT_FEATURES if clock is None else (
        partial(install_swarm, clock=clock), install_compaction)
    factory = SessionFactory(
        Config(swarm=config or SwarmConfig()), provider,
        options=SessionOptions(workspace=ws, max_iterations=max_iterations),
        sessions_dir=tmp_path / "sessions" if store else None, tools=default_tools,
        approver=approver, slot_provider=provider_for, features=features)
    return factory, provider


def make_root(tmp_path: Path, **kwargs: Any) -> tuple[Session, KeyedProvider, Swarm, list[Event]]:
    """A root session made by :func:`root_factory`'s factory, and the events it reports."""
    factory, provider = root_factory(tmp_path, **kwargs)
    session = factory.new().session
    events: list[Event] = []
    session.add_listener(events.append)
    assert session.swarm is not None
    return session, provider, session.swarm, events
