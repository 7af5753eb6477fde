"""Pilot tests of the app on a scripted provider."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.session import Session, SessionOptions
from app.core.tools.base import ToolRegistry
from app.core.tools.files import default_tools
from app.tui import NanobotApp
from widgets.assistant_message import AssistantMessage
from widgets.notice_line import NoticeLine
from widgets.user_message import UserMessage


def make_app(tmp_path: Path, *replies: ScriptedReply | str) -> tuple[NanobotApp, ScriptedProvider]:
    provider = ScriptedProvider(replies)
    session = Session(provider, tools=ToolRegistry(default_tools()),
                      options=SessionOptions(workspace=tmp_path))
    return NanobotApp(session), provider


async def test_typed_question_streams_an_answer(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, "**51** is the answer.")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"17*3?", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(UserMessage).text == "17*3?"
        msg = app.query_one(AssistantMessage)
        assert msg.source_text == "**51** is the answer."
        assert "51" in msg.source  # the Markdown widget received the text


async def test_escape_cancels_and_marks_the_reply(tmp_path: Path) -> None:
    gate = asyncio.Event()
    app, provider = make_app(tmp_path, ScriptedReply(chunks=["partial ", "rest"], gate_at=1,
                                                     gate=gate))
    async with app.run_test(size=(100, 30)) as pilot:
        assert not app.check_action("cancel", ())  # hidden while idle
        await pilot.press(*"go", "enter")
        await provider.request_seen.wait()
        await pilot.pause()
        assert app.check_action("cancel", ())
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        msg = app.query_one(AssistantMessage)
        assert msg.has_class("-cancelled") and msg.source_text == "partial "
        assert any("cancelled" in n.text for n in app.query(NoticeLine))
