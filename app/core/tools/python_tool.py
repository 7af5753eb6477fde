"""``python``: run a short Python program in the workspace and return what it prints.

Small models count and add by guessing ("there are 7 data rows": there are 6). A program that
reads the file and prints the count gets it right, and its output is evidence the answer can quote
(the harness's grounding check accepts only values some tool result or file showed). The program
runs like ``exec`` — the same process-group handling, timeout, output cap and permission policy
(it asks unless ``[permissions]`` allows ``python``) — with the running interpreter, so it works
wherever Nanobot does.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from app.core.providers.base import ToolSpec
from app.core.tools.base import ToolContext, ToolError, ToolResult, resolve_in_workspace
from app.core.tools.shell import Exec

MAX_CODE_CHARS = 20_000


class Python(Exec):
    spec = ToolSpec(
        name="python",
        description="Run a short Python 3 program in the workspace and return what it prints. "
                    "Use it to count, sum or compute from files instead of guessing; print the "
                    "result.",
        parameters={
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "the program; print what you need"},
            },
            "required": ["code"],
        },
    )

    def label(self, args: dict[str, Any]) -> str:
        code = str(args.get("code") or "").strip()
        first = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
        more = " …" if code.count("\n") else ""
        text = f"Running Python: {first}{more}"
        return text if len(text) <= 80 else text[:79] + "…"

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return str(args.get("code") or "")

    def refusal(self, command: str) -> str:
        return ""  # the deny-list reads shell commands; a program is judged by the policy

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        code = args.get("code")
        if not isinstance(code, str) or not code.strip():
            raise ToolError("code is required: a Python program that prints its result")
        if len(code) > MAX_CODE_CHARS:
            raise ToolError(f"the program is {len(code):,} characters; write it to a file with "
                            "write_file and run that with exec instead")
        cwd = resolve_in_workspace(ctx.workspace, ".")
        command = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
        result = await self._run(command, cwd, ctx, limit=self.timeout)
        if not result.is_error and result.content == "(no output)":
            return ToolResult("(no output: the program printed nothing; print the result)",
                              meta=result.meta)
        return result
