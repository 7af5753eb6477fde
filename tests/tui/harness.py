"""Building the app for Pilot and snapshot tests: scripted or replayed provider, fixed hardware."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.message import Message

from app.core.agent.session import SessionOptions
from app.core.models.hardware import fixed_snapshot
from app.core.providers.base import Provider, ToolSpec
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.tools.base import ToolContext, ToolResult
from app.core.tools.files import default_tools
from app.runtime.factory import SessionFactory
from app.tui.app import NanobotApp
from app.tui.bridge import CoreEvent
from widgets.blocks import Block

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


def scripted_factory(workspace: Path, *replies: ScriptedReply | str, persist: bool = False,
                     config: Config | None = None, context_window: int = 8192,
                     model: str = "qwen2.5-coder-0.5b") -> tuple[SessionFactory, ScriptedProvider]:
    """:func:`make_factory` on a scripted provider that gives ``replies``."""
    provider = ScriptedProvider(replies, model=model, context_window=context_window)
    return make_factory(workspace, provider, persist=persist, config=config), provider


def make_app(workspace: Path, *replies: ScriptedReply | str, persist: bool = False,
             config: Config | None = None, context_window: int = 8192,
             model: str = "qwen2.5-coder-0.5b", **kwargs: Any
             ) -> tuple[NanobotApp, ScriptedProvider]:
    factory, provider = scripted_factory(workspace, *replies, persist=persist, config=config,
                                         context_window=context_window, model=model)
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


# --- reading the conversation view ---------------------------------------------------------------


def blocks(app: NanobotApp, kind: str | None = None) -> list[Block]:
    """The conversation's blocks (of one kind)."""
    return [b for b in app.conversation.blocks if kind is None or b.kind == kind]


def drawn_text(app: NanobotApp, block: Block | None = None) -> str:
    """What the view draws, as plain text: one block's lines, or every block's."""
    conv = app.conversation
    out = []
    for i, b in enumerate(conv.blocks):
        if block is None or b is block:
            out += [strip.text.rstrip() for strip in conv._draw(i)]
    return "\n".join(out)


def screen_lines(app: NanobotApp) -> list[str]:
    """The conversation's lines as they are on screen now."""
    conv = app.conversation
    return [conv.render_line(y).text.rstrip() for y in range(conv.size.height)]


def said(app: NanobotApp) -> list[str]:
    """What the user said, in order: messages and steers."""
    return [b.text for b in app.conversation.blocks if b.kind in ("user", "steer")]


class GatedTool:
    """A read-only tool that runs until ``gate`` opens (or the turn is cancelled): while it
    runs, steers wait for its result (a steer cuts only text being written)."""

    read_only = True
    spec = ToolSpec("wait_for_gate", "Waits until the test opens the gate.",
                    {"type": "object", "properties": {}})

    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate
        self.started = asyncio.Event()

    def label(self, args: dict[str, Any]) -> str:
        return "Waiting"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        self.started.set()
        waiter = asyncio.ensure_future(ctx.cancel.wait())
        opened = asyncio.ensure_future(self.gate.wait())
        await asyncio.wait({waiter, opened}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        opened.cancel()
        return ToolResult("[cancelled by user]" if ctx.cancel.cancelled else "gate opened",
                          is_error=ctx.cancel.cancelled)


def tool_running_app(workspace: Path, gate: asyncio.Event, *after: ScriptedReply | str,
                     **kwargs: Any) -> tuple[NanobotApp, ScriptedProvider, GatedTool]:
    """An app whose first reply runs :class:`GatedTool`; ``after`` are the replies that follow."""
    app, provider = make_app(workspace, ScriptedReply.call("wait_for_gate"), *after, **kwargs)
    tool = GatedTool(gate)
    app.session.tools.register(tool)
    return app, provider, tool
