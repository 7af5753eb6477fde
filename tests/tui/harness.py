"""Building the app for Pilot and snapshot tests: scripted or replayed provider, fixed hardware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from app.core.agent.session import SessionOptions
from app.core.models.hardware import fixed_snapshot
from app.core.providers.base import Provider
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.tools.files import default_tools
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from app.tui.bridge import CoreEvent

ROOT = Path(__file__).resolve().parents[2]
DEMO_LOG = ROOT / "assets" / "demo-session.jsonl"
FIXED_HW = fixed_snapshot(cpu_percent=23.0, cores=2, ram_gib=24, ram_available_gib=15,
                          process_rss=612 * 2**20)


def make_factory(workspace: Path, provider: Provider, *, persist: bool = False,
                 config: Config | None = None, **kwargs: Any) -> SessionFactory:
    """The app's factory on ``provider``: file tools, sessions saved under the test's state dir
    when ``persist``, every feature (workers, compaction) as in the product."""
    kwargs.setdefault("tools", default_tools)
    return SessionFactory(config or Config(), provider, options=SessionOptions(workspace=workspace),
                          sessions_dir=get_paths().sessions_dir if persist else None, **kwargs)


def make_app(workspace: Path, *replies: ScriptedReply | str, persist: bool = False,
             config: Config | None = None, context_window: int = 8192,
             model: str = "qwen2.5-coder-0.5b", **kwargs: Any
             ) -> tuple[NanobotApp, ScriptedProvider]:
    provider = ScriptedProvider(replies, model=model, context_window=context_window)
    factory = make_factory(workspace, provider, persist=persist, config=config)
    app = NanobotApp(factory, hardware=FIXED_HW, blink=False, **kwargs)
    return app, provider


class Recorder:
    """A ``message_hook``: the names of core events and of our widget messages, in order."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._seen: set[int] = set()
        self._alive: list[Message] = []

    def __call__(self, message: Message) -> None:
        if id(message) in self._seen:  # a bubbling message is seen once per node it visits
            return
        self._seen.add(id(message))
        self._alive.append(message)  # held so that no later message reuses its id
        if isinstance(message, CoreEvent):
            self.names.append(type(message.event).__name__)
        elif type(message).__module__.startswith(("widgets.", "app.")):
            self.names.append(type(message).__qualname__)

    def core(self) -> list[str]:
        collapsed: list[str] = []
        for n in self.names:
            if n in ("TextDelta", "ReasoningDelta") and collapsed and collapsed[-1] == n:
                continue
            collapsed.append(n)
        return collapsed
