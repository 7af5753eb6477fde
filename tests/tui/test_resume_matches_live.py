"""A resumed conversation shows the blocks the live view showed, including a reply that a failing
provider abandoned mid-stream (the fallback chain restarts it on the next provider)."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import ReplyRestarted, TurnFinished
from app.core.providers.fallback import FallbackProvider
from app.core.providers.scripted import ScriptedProvider
from app.core.store.session_store import read_session
from app.tui.app import NanobotApp
from tests.core.providers.test_fallback import DiesMidReply, Sleeps
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, make_factory


def shown(app: NanobotApp) -> list[tuple[str, str, str]]:
    """The conversation's blocks from the first user message on: kind, text, how it ended."""
    blocks = app.conversation.blocks
    first = next(i for i, b in enumerate(blocks) if b.kind == "user")
    return [(b.kind, b.text.strip(), b.ended) for b in blocks[first:]]


async def test_a_restarted_reply_resumes_as_it_was_shown_live(tmp_path: Path) -> None:
    second = ScriptedProvider(["Forty-two."], model="b-model")
    second.name = "b"  # type: ignore[misc]
    provider = FallbackProvider([DiesMidReply(), second], sleep=Sleeps())
    factory = make_factory(tmp_path, provider, persist=True)

    app = NanobotApp(factory, hardware=FIXED_HW, blink=False)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press(*"what is it?", "enter")
        await until(pilot, lambda: not app.busy and len(app.session.history) == 2,
                    what="the turn to end")
        await app.workers.wait_for_complete()
        await until(pilot, lambda: ("assistant", "Forty-two.", "") in shown(app),
                    what="the second provider's reply")
        live = shown(app)
        assert app.session.store is not None
        saved = app.session.store.path

    events = read_session(saved).events
    assert any(isinstance(e, ReplyRestarted) for e in events)
    assert isinstance(events[-1], TurnFinished)
    # Live, the abandoned partial reply is kept and marked; the answer follows the notice.
    assert live[0] == ("user", "what is it?", "")
    assert live[1] == ("assistant", "The answer is", "interrupted")
    assert live[-1] == ("assistant", "Forty-two.", "")

    resumed_app = NanobotApp(factory, resume=saved, hardware=FIXED_HW, blink=False)
    async with resumed_app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: [b.text for b in resumed_app.conversation.blocks
                                    if b.kind == "user"] == ["what is it?"],
                    what="the resumed conversation")
        assert shown(resumed_app) == live
