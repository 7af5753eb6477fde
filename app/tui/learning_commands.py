"""Learning in the TUI: the 👍/👎 keys (Alt+↑ / Alt+↓) on the last answer, ``/rate``,
``/stats``, ``/traces [export [PATH]]`` and the traces screen (F7).

Each prints its answer into the conversation as a notice (never sent to the model).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from app.core.learning.export import export_chat
from app.core.learning.report import stats_text
from app.tui.actions import ActionSpec, register_action
from app.tui.screens import ScreenEntry, register_screen
from app.tui.slash import SlashCommand, register_slash

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

NO_LEARNING = "Learning is not available in this session ([learning] in the config)."


def rate_last(app: CommandPort, good: bool) -> str:
    """The user's verdict on the last answer; returns what the user is told."""
    hook = app.factory.learning
    if hook is None:
        return NO_LEARNING
    if app.session.running:
        return "Rate the answer when the turn has finished"
    trace_id = hook.feedback(app.session, good)
    if trace_id is None:
        return "Nothing to rate yet: no turn has finished in this session"
    text = "Marked the last answer good 👍" if good else "Marked the last answer bad 👎"
    learned = hook.learned[-1] if hook.learned else None
    if learned is not None and learned.crystallised is not None:
        text += f" — learned a recipe: {learned.crystallised.name} (/skills)"
    if learned is not None and learned.demoted is not None:
        text += f" — recipe {learned.demoted.name} demoted after failing"
    return text


def rate_key(app: CommandPort, good: bool) -> None:
    text = rate_last(app, good)
    app.say(text, "info" if text.startswith("Marked") else "warning")


async def _rate(app: CommandPort, arg: str) -> None:
    word = arg.strip().lower()
    if word not in ("good", "bad", "up", "down", "+", "-"):
        app.say("usage: /rate good|bad", "warning")
        return
    app.add_notice(rate_last(app, word in ("good", "up", "+")))


async def _stats(app: CommandPort, arg: str) -> None:
    hook = app.factory.learning
    if hook is None:
        app.add_notice(NO_LEARNING, "warning")
        return
    rows = await asyncio.to_thread(hook.learner.stats.table)
    app.add_notice("Per kind of task (nanobot stats):\n" + stats_text(rows))


async def _traces(app: CommandPort, arg: str) -> None:
    verb, _, rest = arg.strip().partition(" ")
    if not verb:
        app.action_show_screen("traces")
        return
    if verb != "export":
        app.say("usage: /traces [export [PATH]]", "warning")
        return
    hook = app.factory.learning
    if hook is None:
        app.add_notice(NO_LEARNING, "warning")
        return
    out = Path(rest.strip() or "nanobot-traces.jsonl")
    if not out.is_absolute() and not rest.strip().startswith("~"):
        out = app.session.options.workspace / out
    learner = hook.learner
    try:
        result = await asyncio.to_thread(export_chat, learner.traces, learner.stats,
                                         out.expanduser())
    except OSError as exc:
        app.add_notice(f"cannot write {out}: {exc}", "error")
        return
    app.add_notice(
        f"Exported {result.positives} successful turn(s) to {result.path} and "
        f"{result.negatives} failed one(s) to {result.negatives_path} (chat format; "
        "docs/LEARNING.md says how to train a LoRA on them)")


def _traces_screen() -> Screen[Any]:
    from app.tui.screens.traces import TracesScreen

    return TracesScreen()


register_screen(ScreenEntry("traces", _traces_screen, "Traces", keys="f7",
                            description="Traces: what each turn did, outcomes, statistics"))
register_action(ActionSpec("rate_good", "alt+up", "rate(True)", "The last answer was good 👍",
                           "Turn", key_display="alt+↑"))
register_action(ActionSpec("rate_bad", "alt+down", "rate(False)", "The last answer was bad 👎",
                           "Turn", key_display="alt+↓"))
for _cmd in (
    SlashCommand("rate", "good|bad", "Judge the last answer (what the agent learns from)", _rate),
    SlashCommand("stats", "", "Steps, time, success and budget per kind of task", _stats),
    SlashCommand("traces", "[export [PATH]]", "Traces of each turn; export them as training data",
                 _traces, ("", "export")),
):
    register_slash(_cmd)
