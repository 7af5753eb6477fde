"""Steps where the model writes code or a file in a request of its own, in a fenced block.

- The program step: when the harness wants an answer computed rather than guessed, the model
  writes a short program, the ``python`` tool runs it (a call the user sees, under the same
  permission rules), and the answer step quotes what it printed (app/core/harness/compute.py).
- Requested runs: what the request asks to run and the turn never ran is run by the harness
  before the answer (app/core/harness/runs.py).
- Whole-file content: a small model's write or edit gets its content from a whole-file request;
  its call only picks the file (app/core/harness/rewrite.py).

A mixin of :class:`app.core.agent.session.Session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, ToolCall, new_call_id
from app.core.harness.compute import program_failure, program_from
from app.core.harness.rewrite import content_from
from app.core.providers.base import TextChunk

if TYPE_CHECKING:
    from app.core.harness.harness import Harness
    from app.core.providers.base import Provider, ProviderRequest
    from app.core.tools.base import ToolRegistry, ToolResult

# A failing program gets this many repairs, each with its error.
REPAIRS = 1


class ProgramStep:
    if TYPE_CHECKING:  # provided by the Session
        provider: Provider
        tools: ToolRegistry
        history: list[Message]
        _answer_check: str
        _force_answer: bool
        _harness_runs: list[str]

        @property
        def harness(self) -> Harness | None: ...

        def _commit(self, turn_id: str, message: Message) -> None: ...

        async def run_tool(self, turn_id: str, call: ToolCall, cancel: CancelToken,
                           cache: dict[str, ToolResult] | None = None, *,
                           grounded: bool = False, as_bound: bool = False) -> str: ...

    async def _compute_answer(self, turn_id: str, cancel: CancelToken) -> str:
        """Write and run the program. When it printed something, ``_answer_check`` asks the
        answer step to quote it; when running it was refused, the turn's closing statement
        comes back ("" otherwise)."""
        h = self.harness
        if await self._run_requested(turn_id, cancel):
            return ""
        if h is None or self.tools.get("python") is None or not h.wants_program():
            return ""
        previous = error = ""
        for _attempt in range(1 + REPAIRS):
            code = await self._write_program(h.program_request(previous=previous, error=error),
                                             cancel)
            if cancel.cancelled:
                return ""
            if not code:
                break
            problem = h.program_problem(code)
            if problem:  # not run: it would compute something the question is not about
                previous, error = code, problem
                continue
            call = ToolCall(new_call_id(), "python", {"code": code})
            self._commit(turn_id, Message(role="assistant", content="", tool_calls=(call,)))
            await self.run_tool(turn_id, call, cancel)
            result = self.history[-1] if self.history and self.history[-1].role == "tool" else None
            if result is None or cancel.cancelled:
                return ""
            if result.content.startswith("Refused"):
                return h.program_refused(result.content)
            error = program_failure(result.content, result.is_error)
            if not error:
                # The next step is the answer, quoting the output: no more calls.
                self._answer_check = h.program_ran(result.content)
                self._force_answer = True
                return ""
            previous = code
        self._answer_check = h.program_failed()
        return ""

    async def _run_requested(self, turn_id: str, cancel: CancelToken) -> bool:
        """Run what the request asks to run and the turn never ran (the harness's calls, shown
        as such and under the same permission rules); the answer step then reads the output."""
        commands, self._harness_runs = self._harness_runs, []
        h = self.harness
        if not commands or h is None or self.tools.get("exec") is None:
            return False
        calls = tuple(ToolCall(new_call_id(), "exec", {"command": c}) for c in commands)
        self._commit(turn_id, Message(role="assistant", content="", tool_calls=calls))
        for call in calls:
            if cancel.cancelled:
                return True
            await self.run_tool(turn_id, call, cancel, grounded=True)
        self._answer_check = h.runs_done(list(commands))
        return True

    async def _write_program(self, request: ProviderRequest, cancel: CancelToken) -> str:
        return program_from(await self._fenced_reply(request, cancel))

    async def _whole_file(self, call: ToolCall, cancel: CancelToken) -> ToolCall:
        """``call`` with its content from a whole-file request, when the harness wants that for
        it (a small model); ``call`` itself otherwise, or when no whole file came back."""
        h = self.harness
        if h is None or cancel.cancelled:
            return call
        target = h.rewrite_target(call, self.provider.capabilities.small)
        if target is None:
            return call
        rel, current = target
        content = content_from(await self._fenced_reply(h.rewrite_request(rel, current), cancel,
                                                        prefix=True))
        if cancel.cancelled:
            return call
        if content is None:
            if call.name == "write_file":
                h.incomplete_write(call)  # its own content is only a beginning (brief_content)
            return call
        return ToolCall(call.id, "write_file", {"path": rel, "content": content})

    async def _fenced_reply(self, request: ProviderRequest, cancel: CancelToken, *,
                            prefix: bool = False) -> str:
        """The model's reply to ``request``, stopped once its fenced block is closed (the rest
        would be prose). ``prefix``: the reply is returned with the prefill it continues."""
        parts: list[str] = []
        step = CancelToken()

        def stop() -> None:
            step.cancel(cancel.reason)

        unlink = cancel.on_cancel(stop)
        try:
            async for chunk in self.provider.stream(request, step):
                if isinstance(chunk, TextChunk):
                    parts.append(chunk.text)
                    if not step.cancelled and "```" in "".join(parts):
                        step.cancel("the block is complete")
        finally:
            unlink()
        if cancel.cancelled:
            return ""
        text = "".join(parts)
        return request.prefill + text if prefix else text
