"""What the prompt's messages mean right now: send, steer, queue, recall, attach, slash command.

- Idle, Enter sends (a slash command runs instead and never reaches the model).
- Running, Enter *steers*: the text goes to ``Session.inject`` and reaches the model at the next
  safe point; Tab *queues* it for after the turn. Both show in the pending strip and are saved to a
  file next to the session until delivered, so a crash loses none.
- After a finished turn the next queued message is sent; after a cancel or an error the queue waits
  (Enter on an empty prompt sends the next one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.context.tokens import format_tokens
from widgets.pending_strip import human_size
from widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from app.core.agent.session import TurnOutcome
    from app.core.providers.replay import ReplayProvider
    from app.tui.ports import PromptPort

REPLY_ROOM = 512  # tokens kept free for the answer when judging whether a message fits


def describe_paste(text: str) -> str:
    lines = len(text.splitlines()) or 1  # "a\nb\nc\n" is 3 lines, not 4
    return f"{human_size(len(text.encode('utf-8')))} · {lines:,} line{'s' if lines != 1 else ''}"


def with_attachments(text: str, attachments: list[str]) -> str:
    parts = [text.strip()] if text.strip() else []
    for paste in attachments:
        parts.append(f"[pasted text: {describe_paste(paste)}]\n```\n{paste}\n```")
    return "\n\n".join(parts)


class PromptFlow:
    def __init__(self, app: PromptPort) -> None:
        self.app = app

    @property
    def prompt(self) -> PromptInput:
        return self.app.prompt

    # --- submit ------------------------------------------------------------------------------

    async def submitted(self, text: str) -> None:
        app = self.app
        if not app.attached:  # still starting: kept, and sent (or run) once the session is there
            if text.strip():
                app.pending.add("queue", text)
                self.refresh_pending()
                app.say("Starting up: this goes out as soon as the model is ready.")
            return
        if await app.dispatch_slash(text):
            return
        if app.busy:
            self.steer(text)
            return
        if not text.strip() and not app.attachments:
            nxt = app.pending.items("queue")
            if nxt:
                app.pending.remove(nxt[0].id)
                self.start_turn(nxt[0].text)
            return
        full = with_attachments(text, app.attachments)
        if not self._fits(full):
            self.prompt.value = text  # keep what was typed; the paste stays attached
            return
        app.attachments.clear()
        self.start_turn(full)

    def _fits(self, full: str) -> bool:
        app = self.app
        limit = app.session.context_limit
        tokens = app.session.tokens
        need = tokens.tokens(full)
        # The history makes way (the compaction tiers summarise, mask and truncate it); what
        # cannot is the system prompt and the room for the reply.
        room = limit - tokens.tokens(app.session.system_prompt()) - REPLY_ROOM
        if need <= room:
            return True
        app.say(f"Not sent: this message is ~{format_tokens(need)} tokens but the model's context "
                f"({format_tokens(limit)}) has ~{format_tokens(max(0, room))} free. Drop the "
                "paste (⌫ on an empty prompt) or send less.", "error")
        return False

    def start_turn(self, text: str) -> None:
        app = self.app
        app.busy = True
        app.run_worker(self._turn(text), group="turn", exit_on_error=False)

    async def _turn(self, text: str) -> TurnOutcome:
        try:
            outcome = await self.app.bridge.submit(text)
        finally:
            self.app.bridge.flush()
        await self.after_turn(outcome)
        return outcome

    async def after_turn(self, outcome: TurnOutcome) -> None:
        app = self.app
        leftovers = app.bridge.take_steers()
        if leftovers:  # arrived too late for this turn: they wait in the queue
            app.pending.convert("steer", "queue")
        app.busy = False
        self.refresh_pending()
        queued = app.pending.items("queue")
        if outcome.status == "finished" and queued and app.replay is None:
            app.pending.remove(queued[0].id)
            self.refresh_pending()
            self.start_turn(queued[0].text)
        elif queued:
            app.say(f"{len(queued)} message(s) wait in the queue: Enter on an empty prompt sends "
                    "the next, ↑ edits the last")

    async def release_early(self, texts: list[str]) -> None:
        """What was typed while the app started: commands run, the first message is sent, the
        rest wait in the queue for their turn."""
        app = self.app
        for text in texts:
            if await app.dispatch_slash(text):
                continue
            if app.busy:
                app.pending.add("queue", text)
            else:
                self.start_turn(text)
        self.refresh_pending()

    # --- steer / queue / recall ----------------------------------------------------------------

    def steer(self, text: str) -> None:
        app = self.app
        if not text.strip():
            return
        if app.bridge.inject(text):
            app.pending.add("steer", text)
        else:  # the turn is between its start and the session: after it, then
            app.pending.add("queue", text)
        self.refresh_pending()

    async def queued(self, text: str) -> None:
        app = self.app
        if not app.busy:
            await self.submitted(text)
            return
        app.pending.add("queue", text)
        self.refresh_pending()

    def steer_delivered(self, text: str) -> None:
        item = self.app.pending.first("steer", text)
        if item is not None:
            self.app.pending.remove(item.id)
        self.refresh_pending()

    def recall(self) -> None:
        app = self.app
        item = app.pending.pop_last()
        if item is None:
            return
        if item.kind == "steer":
            steers = app.bridge.take_steers()
            if item.text in steers:
                steers.reverse()
                steers.remove(item.text)
                steers.reverse()
            for text in steers:
                app.bridge.inject(text)
        self.prompt.value = item.text
        self.prompt.cursor_position = len(item.text)
        self.refresh_pending()

    def open_inject(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.steer(text)

        from app.tui.screens.inject import InjectScreen

        self.app.push_screen(InjectScreen(), done)

    # --- attachments ---------------------------------------------------------------------------

    def attach(self, text: str) -> None:
        self.app.attachments.append(text)
        self.app.say(f"Pasted text attached ({describe_paste(text)}); it is sent with your next "
                     "message.")
        self.refresh_pending()

    def drop_attachment(self) -> None:
        if self.app.attachments:
            gone = self.app.attachments.pop()
            self.app.say(f"Removed the attached paste ({describe_paste(gone)}).")
            self.refresh_pending()

    # --- view ----------------------------------------------------------------------------------

    def refresh_pending(self) -> None:
        app = self.app
        items: list[tuple[str, str]] = [(i.kind, i.text) for i in app.pending]
        items += [("paste", describe_paste(a)) for a in app.attachments]
        app.strip.show_items(items)
        prompt = self.prompt
        prompt.has_pending = len(app.pending) > 0
        prompt.attachments = len(app.attachments)
        if app.ready:
            app.refresh_status()

    # --- replay ----------------------------------------------------------------------------------

    async def replay_all(self, provider: ReplayProvider) -> None:
        """Drive the recorded turns through the normal path, one after the other."""
        app = self.app

        def inject(text: str) -> None:
            if app.bridge.inject(text):
                app.pending.add("steer", text)
                self.refresh_pending()

        provider.on_inject = inject
        for i in range(len(provider.script.turns)):
            prompt = provider.start_turn(i)
            app.busy = True
            await self._turn(prompt)
        app.say("Replay finished.")
