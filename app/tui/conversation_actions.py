"""What the App does for the conversation view and the prompt's completion: scrolling from the
prompt, handing focus back and forth, copying blocks and replies, showing Tab's candidates.

A mixin of :class:`app.tui.app.NanobotApp` (Textual finds message handlers through the class's MRO),
kept apart so the App module stays about wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from app.tui.completion import complete
from widgets.conversation import Conversation
from widgets.flash import Flash
from widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from app.tui.app import NanobotApp

def last_code_block(markdown: str) -> str | None:
    """The body of the last fenced code block in ``markdown``."""
    from markdown_it import MarkdownIt

    tokens = [t for t in MarkdownIt().parse(markdown) if t.type == "fence"]
    return tokens[-1].content.rstrip("\n") if tokens else None


class ConversationActions:
    if TYPE_CHECKING:  # provided by the App
        conversation: Conversation
        prompt: PromptInput
        flash: Flash

        def say(self, text: str, kind: str = "info") -> None: ...

        def copy_to_clipboard(self, text: str) -> None: ...

    def action_scroll_view(self, where: str) -> None:
        conv = self.conversation
        if where == "page_up":
            conv.action_page(-1)
        elif where == "page_down":
            conv.action_page(1)
        elif where == "top":
            conv.action_top()
        else:
            conv.action_bottom()

    def on_prompt_input_focus_conversation(self,
                                           _: PromptInput.FocusConversation) -> None:
        self.conversation.focus()

    def on_conversation_typed_ahead(self, message: Conversation.TypedAhead) -> None:
        prompt = self.prompt
        prompt.focus()
        prompt.insert_text_at_cursor(message.character)

    def on_conversation_left(self, _: Conversation.Left) -> None:
        self.prompt.focus()

    def on_conversation_copied(self, message: Conversation.Copied) -> None:
        self.copy_text(message.block.copy_text(), "block")

    def copy_text(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text)
        lines = len(text.splitlines())
        self.say(f"Copied the {what} ({lines:,} line{'s' if lines != 1 else ''}, "
                 f"{len(text):,} characters)")

    def copy_last(self, what: str = "") -> None:
        """/copy: the last reply, or (``code``) the last code block in it."""
        reply = next((b for b in reversed(self.conversation.blocks)
                      if b.kind == "assistant" and b.text.strip()), None)
        if reply is None:
            self.say("Nothing to copy yet: no reply in this view.", "warning")
            return
        if what == "code":
            code = last_code_block(reply.text)
            if code is None:
                self.say("The last reply has no code block; /copy copies the whole reply.",
                         "warning")
                return
            self.copy_text(code, "code block")
            return
        self.copy_text(reply.text, "last reply")

    def complete_prompt(self, value: str, cursor: int
                        ) -> tuple[str, int, tuple[str, ...]] | None:
        found = complete(cast("NanobotApp", self), value, cursor)
        return None if found is None else (found.value, found.cursor, found.candidates)

    def on_prompt_input_completions_shown(self,
                                          message: PromptInput.CompletionsShown) -> None:
        shown = message.candidates
        text = "  ".join(shown[:12]) + (f"  … +{len(shown) - 12}" if len(shown) > 12 else "")
        self.flash.show(f"Tab again cycles: {text}", "info", 6.0)

    def on_prompt_input_nothing_to_complete(self,
                                            _: PromptInput.NothingToComplete) -> None:
        self.say("Enter sends. Tab completes /commands, their arguments and @paths.")

