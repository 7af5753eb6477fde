"""``spawn``: start workers and manage them (spawn, list, check, wait, cancel).

Each session gets its own instance, bound to its place in the worker tree, so a worker can only
see and stop its own descendants and its children get half its tool rounds.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult

if TYPE_CHECKING:
    from app.core.swarm.swarm import Swarm

ACTIONS = ("spawn", "list", "check", "wait", "cancel")
MAX_WAIT_S = 600.0


class SpawnTool:
    spec = ToolSpec(
        name="spawn",
        description=("Run a task in a background worker, or manage workers. action=spawn starts "
                     "one (task, optional tools, context, model slot main/rlm/memory); list, "
                     "check (id), wait (id, or all) and cancel (id) manage them. A worker's "
                     "result comes back to you as a message when it ends."),
        parameters={
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": list(ACTIONS)},
                "task": {"type": "string", "description": "what the worker must do (spawn)"},
                "label": {"type": "string", "description": "a short name for the worker"},
                "tools": {"type": "array", "items": {"type": "string"},
                          "description": "tools the worker may use (default: yours)"},
                "context": {"type": "string", "description": "facts the worker needs"},
                "model": {"type": "string", "enum": ["main", "rlm", "memory"]},
                "id": {"type": "string", "description": "worker id (check, wait, cancel)"},
                "timeout": {"type": "number", "description": "seconds (spawn, wait)"},
            },
            "required": ["action"],
        },
    )

    def __init__(self, swarm: Swarm, owner: str | None) -> None:
        self.swarm = swarm
        self.owner = owner

    def label(self, args: dict[str, Any]) -> str:
        action = args.get("action", "?")
        if action == "spawn":
            return f"Spawning a worker: {str(args.get('label') or args.get('task', ''))[:50]}"
        return f"Workers: {action} {args.get('id', '')}".rstrip()

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        action = args.get("action")
        if action == "spawn":
            return self._spawn(args)
        if action == "list":
            lines = self.swarm.status_lines(self.owner, recent=50, recent_s=float("inf"))
            return ToolResult("\n".join(lines) if lines else "No workers.")
        if action == "check":
            w = self._mine(args)
            if w.final:
                w.reported = True
                return ToolResult(self.swarm.describe(w))
            lines = [ln for ln in self.swarm.status_lines(self.owner) if f"id {w.id}," in ln]
            so_far = w.work_so_far()
            return ToolResult("\n".join(lines) + (f"\nSo far:\n{so_far}" if so_far else ""))
        if action == "wait":
            return await self._wait(args, ctx)
        if action == "cancel":
            w = self._mine(args)
            stopped = self.swarm.cancel(w.id, "cancelled by its parent")
            if not stopped:
                return ToolResult(f"Worker {w.id} had already ended ({w.state}).")
            await self.swarm.wait(stopped)
            w.reported = True
            return ToolResult(f"Cancelled {', '.join(stopped)}.\n{self.swarm.describe(w)}")
        raise ToolError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")

    def _mine(self, args: dict[str, Any]) -> Any:
        wid = str(args.get("id") or "").strip()
        if not wid:
            raise ToolError("this action needs the worker id")
        if wid not in self.swarm.workers or not self.swarm.owned_by(self.owner, wid):
            mine = [w for w in self.swarm.workers if self.swarm.owned_by(self.owner, w)]
            raise ToolError(f"no worker {wid!r} of yours; yours: {', '.join(mine) or 'none'}")
        return self.swarm.workers[wid]

    def _spawn(self, args: dict[str, Any]) -> ToolResult:
        tools = args.get("tools")
        if tools is not None and not (isinstance(tools, list)
                                      and all(isinstance(t, str) for t in tools)):
            raise ToolError("tools must be a list of tool names")
        timeout = args.get("timeout")
        w = self.swarm.spawn(self.owner, str(args.get("task") or ""),
                             label=str(args.get("label") or ""), tools=tools,
                             context=str(args.get("context") or ""),
                             model=str(args.get("model") or ""),
                             timeout_s=float(timeout) if isinstance(timeout, int | float)
                             and timeout > 0 else None)
        b = w.budget
        limits = [f"{b.max_iterations} tool rounds", f"depth {b.depth}/{b.max_depth}"]
        if b.max_tokens is not None:
            limits.append(f"{b.max_tokens:,} tokens")
        return ToolResult(f"Started worker {w.id} ({w.label}) on {w.model}; budget: "
                          f"{', '.join(limits)}. Its result will come back to you as a message; "
                          f"or use spawn with action=wait and id={w.id}.")

    async def _wait(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if args.get("id"):
            targets = [self._mine(args)]
        else:
            targets = [w for w in self.swarm.workers.values()
                       if w.parent == self.owner and not w.reported]
            if not targets:
                return ToolResult("No workers to wait for.")
        timeout = args.get("timeout")
        limit = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else MAX_WAIT_S
        waiter = asyncio.ensure_future(self.swarm.wait([w.id for w in targets]))
        stop = asyncio.ensure_future(ctx.cancel.wait())
        try:
            await asyncio.wait({waiter, stop}, timeout=min(limit, MAX_WAIT_S),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not waiter.done():
                waiter.cancel()
        parts = []
        for w in targets:
            if w.final:
                w.reported = True
                parts.append(self.swarm.describe(w))
            else:
                parts.append(f"[worker {w.id} '{w.label}' still {w.state}]")
        return ToolResult("\n\n".join(parts))
