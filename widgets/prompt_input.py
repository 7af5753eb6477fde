"""The prompt line. It only posts messages; the App decides what a submit means right now.

While a turn runs, Enter steers it; Tab completes a ``/command``, its argument or an ``@path``
(the App supplies :attr:`PromptInput.completer`) and otherwise queues for after the turn; ↑ on an
empty prompt recalls the last pending message; the backtick on an empty prompt opens the inject
line (the keys are the app's to bind: see ``action_queue``, ``action_recall``,
``action_inject_prompt``, ``action_focus_conversation``). A paste with line breaks (CR, LF or
CRLF) or over :data:`ATTACH_CHARS` characters is not typed in: it is announced as an attachment,
with LF line ends.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.message import Message
from textual.widgets import Input

ATTACH_CHARS = 2000
IDLE_HINT = "Ask Nanobot…  (Enter sends · /help for commands)"
BUSY_HINT = "Steer the running turn (Enter) · Tab queues for after · Esc Esc cancels"

# (text, cursor) -> (new text, new cursor, candidates to show) or None: nothing to complete.
Completer = Callable[[str, int], tuple[str, int, tuple[str, ...]] | None]


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR (what tmux and some terminals send on paste) become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class PromptInput(Input):
    DEFAULT_CSS = """
    PromptInput.-busy { border: tall $accent 60%; }
    PromptInput.-busy:focus { border: tall $accent; }
    """
    # No BINDINGS here: the app binds the actions (queue, recall, inject_prompt,
    # focus_conversation) from its action registry, where their keys are declared once
    # (app/tui/actions.py, where="prompt").

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Queued(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class RecallRequested(Message):
        pass

    class FocusConversation(Message):
        pass

    class InjectRequested(Message):
        pass

    class DropAttachment(Message):
        pass

    class CompletionsShown(Message):
        """Tab found several candidates: the App shows them."""

        def __init__(self, candidates: tuple[str, ...]) -> None:
            super().__init__()
            self.candidates = candidates

    class NothingToComplete(Message):
        """Tab on an idle prompt with nothing to complete (it no longer sends)."""

    class Pasted(Message):
        """A paste too big (or too many lines) to type into one line: attach it instead."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        # No select-all on focus: coming back from the conversation, the next key must not
        # replace the draft.
        super().__init__(placeholder=IDLE_HINT, select_on_focus=False,
                         **kwargs)  # type: ignore[arg-type]
        self.busy = False
        self.has_pending = False
        self.attachments = 0
        self.completer: Completer | None = None
        # Repeated Tab on the same text cycles through the candidates shown.
        self._cycle: tuple[str, tuple[str, ...], int] | None = None  # (value, candidates, index)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.set_class(busy, "-busy")
        self.placeholder = BUSY_HINT if busy else IDLE_HINT

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "inject_prompt":
            return self.busy and not self.value  # otherwise the backtick is typed
        if action == "recall":
            return self.has_pending and not self.value
        if action == "queue":
            return bool(self.value.strip())  # an empty prompt lets Tab move focus
        return super().check_action(action, parameters)

    async def action_submit(self) -> None:
        text = self.value
        if text.strip() or self.attachments or self.has_pending:
            self.value = ""
            self.post_message(self.Submitted(text))

    def action_queue(self) -> None:
        """Tab: complete what is under the cursor; with nothing to complete, queue (while busy)."""
        if self._next_candidate() or self._complete():
            return
        text = self.value
        if self.busy and text.strip():
            self.value = ""
            self.post_message(self.Queued(text))
        elif text.strip():
            self.post_message(self.NothingToComplete())

    def _complete(self) -> bool:
        if self.completer is None:
            return False
        found = self.completer(self.value, self.cursor_position)
        if found is None:
            return False
        value, cursor, candidates = found
        if value != self.value:
            self.value = value
            self.cursor_position = cursor
        if candidates:
            self._cycle = (self.value, candidates, -1)
            self.post_message(self.CompletionsShown(candidates))
        return True

    def _next_candidate(self) -> bool:
        cycle = self._cycle
        if cycle is None or cycle[0] != self.value:
            self._cycle = None
            return False
        _, candidates, index = cycle
        index = (index + 1) % len(candidates)
        cursor = self.cursor_position
        start = cursor
        while start > 0 and not self.value[start - 1].isspace():
            start -= 1
        pick = candidates[index]
        self.value = self.value[:start] + pick + self.value[cursor:]
        self.cursor_position = start + len(pick)
        self._cycle = (self.value, candidates, index)
        return True

    def action_recall(self) -> None:
        self.post_message(self.RecallRequested())

    def action_focus_conversation(self) -> None:
        self.post_message(self.FocusConversation())

    def action_inject_prompt(self) -> None:
        self.post_message(self.InjectRequested())

    def action_delete_left(self) -> None:
        if not self.value and self.cursor_position == 0 and self.attachments:
            self.post_message(self.DropAttachment())
            return
        super().action_delete_left()

    def _on_paste(self, event: events.Paste) -> None:
        text = normalise_newlines(event.text)
        if "\n" in text.strip("\n") or len(text) > ATTACH_CHARS:
            event.prevent_default()  # keep Input's handler from typing the first line only
            event.stop()
            self.post_message(self.Pasted(text))
        elif text != event.text:  # one line with a stray CR or CRLF: type the line
            event.prevent_default()
            event.stop()
            self.insert_text_at_cursor(text.strip("\n"))
