"""What the model sees at each step: the system prompt, the history, and the nudges a small model
gets after a tool result or when it must answer now.

A mixin of :class:`app.core.agent.session.Session`, kept apart so the session module stays about
the turn loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from app.core.agent import hooks as _hooks
from app.core.agent import nudges
from app.core.agent.messages import Message

if TYPE_CHECKING:
    from app.core.agent.session import Session, SessionOptions
    from app.core.harness.harness import Harness
    from app.core.providers.base import Provider

# The session's logger: these methods were written as the session's, and its log lines keep its name.
log = logging.getLogger("app.core.agent.session")

# The workspace path is left out on purpose: tools take relative paths, and a prompt that does not
# change from one directory to the next keeps small models' answers (and the prompt cache) stable.
BASE_PROMPT = (
    "You are Nanobot, a concise coding assistant running on the user's machine, in the user's "
    "project directory (file paths are relative to it). Answer briefly."
)


class PromptBuilding:
    if TYPE_CHECKING:  # provided by the Session
        provider: Provider
        options: SessionOptions
        history: list[Message]
        _turn_start: int
        _force_answer: bool
        _answer_check: str

        @property
        def context_limit(self) -> int: ...

        @property
        def harness(self) -> Harness | None: ...

        @property
        def running(self) -> bool: ...

    def system_prompt(self) -> str:
        prompt = BASE_PROMPT
        if self.options.system_prompt:
            prompt += "\n\n" + self.options.system_prompt
        for section in self.options.prompt_sections:
            try:
                text = section(self.context_limit)
            except Exception:  # a broken section never breaks a turn
                log.exception("a system prompt section failed")
                continue
            if text:
                prompt += "\n\n" + text
        return prompt

    def build_messages(self) -> list[Message]:
        """What the model sees this step: the system prompt plus the history."""
        messages = [Message(role="system", content=self.system_prompt()), *self.history]
        request = self._last_request()
        if self._answer_check:
            messages.append(Message(role="user", content=self._answer_check))
        elif self._force_answer:
            kept = self._without_failed_calls()
            messages = [messages[0], *kept]
            if kept and kept[-1].role != "user":  # some tool did help: ask for the answer
                turn = self._model_turn(kept[self._turn_start:])
                messages.append(Message(role="user", content=nudges.answer_now(turn, request)))
        elif (self.history and self.history[-1].role == "tool"
              and self.provider.capabilities.tool_nudge and not self._grounded(self.history[-1])):
            turn = self._model_turn()
            text = nudges.after_tool(turn, request, failed=self.history[-1].is_error)
            messages.append(Message(role="user", content=text))
        # Hooks first (a memory note finds the request by its words), then the harness attaches
        # the map and the grounded reads to the request.
        messages = _hooks.run_prepare(cast("Session", self), messages)
        if self.harness is not None:
            current = (self.history[self._turn_start] if self.running
                       and self._turn_start < len(self.history) else None)
            messages = self.harness.render(messages, current, self.context_limit)
        return messages

    def _grounded(self, message: Message) -> bool:
        h = self.harness
        if h is None:
            return False
        if message.role == "tool":
            return h.is_grounded(message.tool_call_id or "")
        return bool(message.tool_calls) and all(h.is_grounded(c.id) for c in message.tool_calls)

    def _model_turn(self, turn: list[Message] | None = None) -> list[Message]:
        """This turn's messages without the harness's grounded reads: the step plan counts only
        the calls the model made."""
        turn = self.history[self._turn_start:] if turn is None else turn
        return [m for m in turn if not self._grounded(m)]

    def _without_failed_calls(self) -> list[Message]:
        """This turn's history minus tool calls whose every result failed: for an answer-only
        step they are noise that small models echo back."""
        head, turn = self.history[:self._turn_start], self.history[self._turn_start:]
        failed = {m.tool_call_id for m in turn if m.role == "tool" and m.is_error}
        kept: list[Message] = []
        for m in turn:
            if m.role == "tool" and m.tool_call_id in failed:
                continue
            if m.role == "assistant" and m.tool_calls and all(c.id in failed for c in m.tool_calls):
                if m.content.strip():
                    kept.append(Message(role="assistant", content=m.content))
                continue
            kept.append(m)
        return [*head, *kept]

    def last_request(self) -> str:
        """The latest user message, on one line (at most 300 characters)."""
        return self._last_request()

    def last_request_text(self) -> str:
        """The user's latest message, whole (the harness reads what it names)."""
        return next((m.content for m in reversed(self.history) if m.role == "user"), "")

    def _last_request(self) -> str:
        for msg in reversed(self.history):
            if msg.role == "user":
                text = " ".join(msg.content.split())
                return text if len(text) <= 300 else text[:300] + "…"
        return ""
