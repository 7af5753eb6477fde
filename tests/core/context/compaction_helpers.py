"""Shared pieces for the compaction tests: a tool with big outputs and a gated summariser."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from app.core.agent.events import Event
from app.core.agent.session import Session, SessionOptions
from app.core.context.compaction import ContextManager
from app.core.context.context_gate import ContextGate
from app.core.context.summarizer import Speed, Summarizer
from app.core.providers.base import ToolSpec
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import ContextConfig
from app.core.store.session_store import SessionStore
from app.core.tools.base import ToolContext, ToolRegistry, ToolResult


class BigOutput:
    """``fetch(n)`` returns a distinct, large, line-structured text for each ``n``."""

    read_only = True  # reading a record changes nothing: no permission question
    spec = ToolSpec(name="fetch", description="Fetch record n.",
                    parameters={"type": "object",
                                "properties": {"n": {"type": "integer"},
                                               "size": {"type": "integer"}},
                                "required": ["n"]})

    def __init__(self, size: int) -> None:
        self.size = size

    def text(self, n: int, size: int | None = None) -> str:
        size = size or self.size
        line = f"record {n}: " + "abcdefghij" * 6 + "\n"
        return (line * (size // len(line) + 1))[:size]

    def label(self, args: dict[str, Any]) -> str:
        return f"Fetching {args.get('n')}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(self.text(int(args["n"]), args.get("size")))


def gated_summary(text: str) -> tuple[ScriptedReply, asyncio.Event]:
    gate = asyncio.Event()
    return ScriptedReply(chunks=[text[:5], text[5:]], gate_at=1, gate=gate), gate


def build(tmp_path: Path, *, window: int = 2000, output: int = 400, max_tokens: int = 200,
          summary_replies: list[ScriptedReply | str] | None = None,
          config: ContextConfig | None = None, store: bool = True,
          timeout_s: float = 30.0, summarize: bool = True, gate: ContextGate | None = None,
          ) -> tuple[Session, ScriptedProvider, ScriptedProvider, ContextManager, list[Event],
                     BigOutput]:
    provider = ScriptedProvider(context_window=window)
    memory = ScriptedProvider(summary_replies or [], model="memory-slot", context_window=4096)
    tool = BigOutput(output)
    # A scripted model answers at once: its measured speed never stretches ``timeout_s``.
    summarizer = Summarizer(memory, timeout_s=timeout_s,
                            speed=Speed(prompt=1e6, generate=1e6)) if summarize else None
    manager = ContextManager(summarizer=summarizer, config=config or ContextConfig())
    session = Session(provider, tools=ToolRegistry([tool]),
                      options=SessionOptions(workspace=tmp_path, max_tokens=max_tokens),
                      store=SessionStore.create(tmp_path / "sessions") if store else None,
                      gate=gate, compaction=manager)
    events: list[Event] = []
    session.add_listener(events.append)
    return session, provider, memory, manager, events, tool


async def fetch_turn(session: Session, provider: ScriptedProvider, n: int,
                     size: int | None = None) -> str:
    """One turn: the model fetches record ``n`` and answers; returns the outcome status."""
    args: dict[str, int] = {"n": n} if size is None else {"n": n, "size": size}
    provider.enqueue(ScriptedReply.call("fetch", **args))
    provider.enqueue(f"Record {n} is fetched.")
    outcome = await session.run_turn(f"fetch record {n}")
    return outcome.status
