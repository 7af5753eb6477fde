"""Branches: a fork of the conversation that thinks about one question on the side.

A branch is a swarm worker (same tree, budgets, pane, ``x`` to cancel) that starts from a copy of
the root conversation as it stands, with only read-only tools (plus ``remember`` and ``spawn``)
and nobody to ask: it cannot write files or talk to the user. Its answer comes back as a
``BranchFinished`` event (a "branch result" block in the view) and as a message the model reads
at its next step, so it is part of the next turn. The conversation goes on meanwhile; at
most ``[swarm] max_branches`` run at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.agent.messages import Message
from app.core.providers.base import ToolSpec
from app.core.settings.config import SwarmConfig
from app.core.tools.base import ToolContext, ToolError, ToolResult

if TYPE_CHECKING:
    from app.core.agent.session import Session
    from app.core.swarm.swarm import Swarm
    from app.core.swarm.worker import Worker

BRANCH_PROMPT = (
    "You are a branch: a copy of the conversation above that thinks about one question on the "
    "side while the conversation goes on without you. Work it out with the tools you have (they "
    "only read: you cannot change files, and nobody can answer questions), then reply with your "
    "conclusion only, complete and concise. It is handed back to the conversation.")
# Tools a branch may use besides those that declare ``read_only``: keeping a fact changes no
# file, and a branch may hand parts of its question to workers (which inherit its tools).
EXTRA_TOOLS = ("remember",)
RESULT_HEAD = "[Branch result]"


def branch_tools(session: Session) -> list[str]:
    """The tools of ``session`` a branch may use: the read-only ones and :data:`EXTRA_TOOLS`."""
    names = []
    for name in sorted(session.tools.names()):
        tool = session.tools.get(name)
        if getattr(tool, "read_only", False) or name in EXTRA_TOOLS:
            names.append(name)
    return names


def fork_history(history: list[Message]) -> list[Message]:
    """The conversation as it stands, cut before a step still in progress (an assistant message
    whose tool calls are not all answered, e.g. the one that asked for this branch)."""
    out = list(history)
    answered = {m.tool_call_id for m in out if m.role == "tool"}
    for i in range(len(out) - 1, -1, -1):
        m = out[i]
        if m.role == "assistant" and m.tool_calls:
            if any(c.id not in answered for c in m.tool_calls):
                return out[:i]
            break
    return out


def running_branches(swarm: Swarm) -> list[Worker]:
    return [w for w in swarm.workers.values() if w.kind == "branch" and not w.final]


def start_branch(swarm: Swarm, question: str, config: SwarmConfig | None = None) -> Worker:
    """Fork the root conversation into a branch on ``question``; ToolError when not allowed."""
    config = config or swarm.config
    question = " ".join(question.split())
    if not question:
        raise ToolError("a branch needs a question: /branch WHAT TO THINK ABOUT")
    if config.max_branches < 1:
        raise ToolError("branches are off ([swarm] max_branches = 0)")
    running = running_branches(swarm)
    if len(running) >= config.max_branches:
        raise ToolError(f"{len(running)} branch(es) already running, the most allowed "
                        f"([swarm] max_branches = {config.max_branches}); wait for one or cancel "
                        "it in the swarm pane (x)")
    root = swarm.root
    label = f"branch: {question[:40]}{'…' if len(question) > 40 else ''}"
    return swarm.spawn(None, question, label=label, tools=branch_tools(root), kind="branch",
                       history=fork_history(root.history), system_prompt=BRANCH_PROMPT,
                       timeout_s=config.branch_timeout_s,
                       max_iterations=config.branch_max_iterations,
                       token_budget=config.branch_token_budget)


def describe_branch(w: Worker, took: str) -> str:
    """A branch's outcome as the conversation reads it."""
    if w.state == "done":
        return f"{RESULT_HEAD} (question: {w.task}; {took})\n{w.result or '(no text)'}"
    why = w.stop_reason or w.error or w.state
    partial = w.result or "(nothing yet)"
    return (f"{RESULT_HEAD} (question: {w.task}) the branch {w.state.replace('_', ' ')} after "
            f"{took}: {why}. What it had:\n{partial}")


class BranchTool:
    spec = ToolSpec(
        name="branch",
        description=("Think about a side question in the background while the conversation goes "
                     "on: a copy of this conversation works on it with read-only tools, and its "
                     "answer comes back to you as a [Branch result] message. Use it for research "
                     "that can run while you keep helping the user."),
        parameters={
            "type": "object",
            "properties": {"question": {"type": "string",
                                        "description": "what the branch should work out"}},
            "required": ["question"],
        },
        keywords=("branch", "in the background", "meanwhile", "on the side"),
    )

    def __init__(self, swarm: Swarm) -> None:
        self.swarm = swarm

    def label(self, args: dict[str, Any]) -> str:
        return f"Branching: {str(args.get('question', ''))[:60]}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        w = start_branch(self.swarm, str(args.get("question", "")))
        return ToolResult(f"Started branch {w.id} on: {w.task}\nIts answer will come back to you "
                          "as a [Branch result] message; carry on with the conversation "
                          "meanwhile.", meta={"worker_id": w.id})
