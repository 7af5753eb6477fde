"""``remember`` and ``recall``: the model's hands on long-term memory.

(``expand`` is the other kind of looking back: it brings back text compaction shortened in this
session.) Both tools act for the session their hook is bound to: the fact's source, the session
that must not be remembered from when it is private, the session left out of past-session hits.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from app.core.memory.db import MemoryDbError
from app.core.memory.facts import Source
from app.core.memory.store import MODES, MemoryInputError
from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult

if TYPE_CHECKING:
    from app.core.memory.hook import MemoryHook


class RememberTool:
    spec = ToolSpec(
        name="remember",
        description=("Keep a fact for later sessions: something the user told you about "
                     "themselves or this project that will matter again. One short, "
                     "self-contained sentence."),
        parameters={
            "type": "object",
            "properties": {
                "fact": {"type": "string", "description": "the fact, e.g. 'The user's name is "
                                                          "Ada.'"},
                "scope": {"type": "string", "enum": ["project", "user"],
                          "description": "user: about the user, for every project; project: "
                                         "about this project (default)"},
            },
            "required": ["fact"],
        },
        keywords=("remember", "memorize", "don't forget", "keep in mind", "note that"),
    )
    mutates = False  # memory, not the workspace: the identical-call cache stays valid

    def __init__(self, hook: MemoryHook) -> None:
        self.hook = hook

    def label(self, args: dict[str, Any]) -> str:
        fact = " ".join(str(args.get("fact", "")).split())
        return f"Remembering: {fact[:60]}{'…' if len(fact) > 60 else ''}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        hook = self.hook
        session_id = hook.session_id
        if session_id and hook.memory.is_private(session_id):
            return ToolResult("Not remembered: this session is private, so nothing from it is "
                              "kept. Tell the user.", is_error=True)
        scope = str(args.get("scope") or "project")
        if scope not in ("project", "user"):
            raise ToolError("scope must be 'project' or 'user'")
        source = Source(session_id, ctx.turn_id, hook.memory.clock())
        try:
            done = await asyncio.to_thread(
                hook.memory.remember, str(args.get("fact", "")), workspace=hook.workspace(ctx),
                user=scope == "user", source=source)
        except (MemoryInputError, MemoryDbError) as exc:
            raise ToolError(str(exc)) from exc
        verb = "Updated" if done.merged else "Remembered"
        return ToolResult(f"{verb} fact #{done.fact.id}: {done.fact.text}",
                          meta={"fact_id": done.fact.id, "merged": done.merged})


class RecallTool:
    spec = ToolSpec(
        name="recall",
        description=("Search long-term memory: facts kept from earlier sessions and what was "
                     "said in them. Use it when the user refers to something from before."),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "what to look for"},
                "mode": {"type": "string", "enum": list(MODES),
                         "description": "keyword (exact words), semantic (meaning; needs the "
                                        "dense layer) or auto (default)"},
            },
            "required": ["query"],
        },
        keywords=("remember", "recall", "last time", "earlier", "previously", "forgot",
                  "told you"),
    )
    read_only = True

    def __init__(self, hook: MemoryHook) -> None:
        self.hook = hook

    def label(self, args: dict[str, Any]) -> str:
        return f"Recalling: {str(args.get('query', ''))[:60]}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        query = str(args.get("query", "")).strip()
        if not query:
            raise ToolError("recall needs a query: the words or topic to look for")
        mode = str(args.get("mode") or "auto")
        memory = self.hook.memory
        note = ""
        if mode == "semantic" and not memory.semantic:
            mode, note = "keyword", ("(semantic search needs the dense layer, which is not "
                                     "installed: keyword results)\n")
        try:
            found = await asyncio.to_thread(
                memory.recall, query, workspace=self.hook.workspace(ctx), mode=mode,
                exclude_session=self.hook.session_id)
        except (MemoryInputError, MemoryDbError) as exc:
            raise ToolError(str(exc)) from exc
        return ToolResult(note + memory.render(found),
                          meta={"facts": [h.fact.id for h in found.facts]})
