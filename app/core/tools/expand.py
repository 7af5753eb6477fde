"""``expand``: bring back the full text behind a compaction stub or summary citation.

(Long-term memory across sessions is the other tool pair, ``remember`` and ``recall``.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult
from app.core.wire.render import calls_as_text

if TYPE_CHECKING:
    from app.core.context.compaction import ContextManager

MAX_CHARS = 12_000


class ExpandTool:
    read_only = True
    spec = ToolSpec(
        name="expand",
        description=("Bring back text that was shortened to save context. Pass the reference "
                     "from the note, e.g. [log 20250101-120000-ab12cd#57]."),
        parameters={
            "type": "object",
            "properties": {"ref": {"type": "string",
                                   "description": "the [log …#N] or [history #N] reference"}},
            "required": ["ref"],
        },
    )

    def __init__(self, manager: ContextManager) -> None:
        self.manager = manager

    def label(self, args: dict[str, Any]) -> str:
        return f"Expanding {args.get('ref', '?')}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        ref = str(args.get("ref", ""))
        messages = self.manager.expand(ref)
        if not messages:
            raise ToolError(f"nothing found for {ref!r}; pass a reference like [log SID#57] "
                            "exactly as the note wrote it")
        parts = []
        for m in messages:
            body = m.content
            if m.role == "assistant" and m.tool_calls:
                body = f"{body}\n{calls_as_text(m)}".strip()
            label = f"{m.role} {m.name}" if m.name else m.role
            parts.append(f"--- {label}\n{body}")
        text = "\n".join(parts)
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS] + f"\n[… {len(text) - MAX_CHARS:,} more chars; expand a " \
                                      "narrower reference]"
        return ToolResult(text)
