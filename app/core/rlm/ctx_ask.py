"""``ctx_ask``: the agent hands a question about a volume to the volume reader on the rlm slot.

``ctx_search``/``ctx_grep``/``ctx_slice`` answer one hop; a question whose words are not in the
text, that needs every value of a key, a count, or a chain of references costs a small main model
many steps and most of its window. ``ctx_ask`` runs the whole loop (expansion, fused retrieval,
reading, hops) in a nested session on the rlm slot's model and returns the answer with the lines
it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import ctx_tools
from app.core.providers.base import Provider, ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolRegistry, ToolResult

if TYPE_CHECKING:
    from app.core.agent.session import Session, SessionOptions

EXCERPT_CHARS = 1500

# Makes the nested session (the session factory's ``helper``): a provider, tools and options,
# no features and no store.
SessionMaker = Callable[["Provider", ToolRegistry, "SessionOptions"], "Session"]


class CtxAsk:
    read_only = True

    def __init__(self, store: VolumeStore, provider: Callable[[], Provider],
                 make_session: SessionMaker) -> None:
        self.store = store
        self._provider = provider
        self._make_session = make_session
        names = store.names()
        hint = f" Volumes: {', '.join(names)}." if names else ""
        self.spec = ToolSpec(
            name="ctx_ask",
            description="Answer a question from a volume (a large ingested text collection): "
                        "finds the lines even when they use other words, reads every value, "
                        "counts, and follows references; returns the answer and its lines."
                        + hint,
            parameters={"type": "object", "properties": {
                "volume": {"type": "string", "description": "volume name"},
                "question": {"type": "string", "description": "the question"},
            }, "required": ["volume", "question"]})

    def label(self, args: dict[str, Any]) -> str:
        return f"Asking {args.get('volume', '?')}: {str(args.get('question', ''))[:60]}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        from app.core.agent.session import SessionOptions
        from app.core.context_store.errors import VolumeError
        from app.core.rlm.volume_reader import VolumeReader

        name = str(args.get("volume") or "")
        question = str(args.get("question") or "").strip()
        if not question:
            raise ToolError("question is required")
        try:
            self.store.get(name)
        except VolumeError as exc:
            raise ToolError(str(exc)) from exc
        reader = VolumeReader(self._provider(), name)
        session = self._make_session(reader, ToolRegistry(ctx_tools(self.store, always=True)),
                                     SessionOptions(max_iterations=24, max_tokens=128))
        outcome = await session.run_turn(question)
        if outcome.status != "finished":
            raise ToolError(f"the volume reader stopped: {outcome.error or outcome.status}")
        excerpt = reader.last_prompt[:EXCERPT_CHARS]
        hops = " -> ".join([reader.hops[0][0], *(to for _k, to in reader.hops)]) \
            if reader.hops else ""
        body = outcome.text.strip() + (f"\n(followed {hops})" if hops else "")
        if excerpt:
            body += f"\nFrom:\n{excerpt}"
        return ToolResult(body, meta={"hops": reader.hops})


def offer_ctx_ask(registry: ToolRegistry, store: VolumeStore | None,
                  provider: Callable[[], Provider], make_session: SessionMaker) -> None:
    """Add ``ctx_ask`` when there is a volume to ask (a small model given a tool it cannot use
    picks it anyway)."""
    store = store or VolumeStore()
    if store.names():
        registry.register(CtxAsk(store, provider, make_session))
