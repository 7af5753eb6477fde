"""Learning in the real app on a scripted model: the 👍/👎 keys judge the last answer, the traces
screen (F7) lists turns and judges them, /stats, /traces export, and /skills shows, edits,
disables and deletes a learned recipe that three rated successes crystallised."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Static, TextArea

from app.core.learning.hook import LearningHook
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.core.settings.paths import get_paths
from app.core.skills.format import read_skill_file
from app.core.tools.defaults import builtin_tools
from app.runtime.learning import learning_hook
from app.runtime.project import Project
from app.tui.app import NanobotApp
from app.tui.screens.skill_editor import SkillEditor
from app.tui.screens.traces import TracesScreen
from tests.pilot_wait import until
from tests.tui.harness import FIXED_HW, make_factory

EDITS = [("TIMEOUT", "37", "60"), ("RETRIES", "4", "9"), ("TIMEOUT", "60", "15")]


def edit_replies(name: str, old: str, new: str) -> list[ScriptedReply | str]:
    return [ScriptedReply.call("read_file", path="config.py"),
            ScriptedReply.call("edit_file", path="config.py", old_text=f"{name} = {old}",
                               new_text=f"{name} = {new}"),
            f"{name} is {new} now."]


def app_for(ws: Path, replies: list[ScriptedReply | str]) -> tuple[NanobotApp, LearningHook]:
    (ws / "config.py").write_text("TIMEOUT = 37\nRETRIES = 4\n")
    config = Config()
    hook = learning_hook(config)
    assert hook is not None
    factory = make_factory(ws, ScriptedProvider(replies, model="qwen2.5-coder-0.5b"),
                           config=config, tools=builtin_tools, auto_approve=True, learning=hook,
                           project=Project.load(config, ws, get_paths().config_dir))
    return NanobotApp(factory, hardware=FIXED_HW, blink=False), hook


def notices(app: NanobotApp) -> list[str]:
    return [b.text for b in app.conversation.blocks if b.kind == "notice"]


async def send(pilot, app: NanobotApp, text: str) -> None:  # type: ignore[no-untyped-def]
    app.prompt.value = text
    await pilot.press("enter")
    await until(pilot, lambda: not app.busy and app.session.turn_id is None, seconds=30)


async def test_rating_keys_judge_the_last_answer_and_teach_a_recipe(tmp_path: Path) -> None:
    replies: list[ScriptedReply | str] = []
    for e in EDITS:
        replies += edit_replies(*e)
    # No reply for the fourth task: the recipe does it and answers in the runs' shared form.
    app, hook = app_for(tmp_path, replies)
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("alt+up")
        assert "Nothing to rate yet" in str(app.flash.render())
        for name, _, new in EDITS:
            await send(pilot, app, f"Change {name} in config.py to {new}.")
            await pilot.press("alt+up")
            await until(pilot, lambda: "Marked the last answer good" in str(app.flash.render()))
        assert "learned a recipe" in str(app.flash.render())
        views = hook.learner.traces.turns()
        assert [v.success for v in views] == [True, True, True]
        assert {v.judged_by for v in views} == {"user"}
        # The recipe runs the fourth task and answers in the form its runs shared.
        await send(pilot, app, "Change RETRIES in config.py to 5.")
        assert "RETRIES = 5" in (tmp_path / "config.py").read_text()
        await until(pilot, lambda: any("Running learned recipe" in n for n in notices(app)))
        assert any("without a model step" in n for n in notices(app))
        said = [b.text for b in app.conversation.blocks if b.kind == "assistant"]
        assert said[-1] == "RETRIES is 5 now."
        await pilot.press("alt+down")
        await until(pilot, lambda: "bad" in str(app.flash.render()))
        assert hook.learner.traces.turns(last=1)[0].success is False


async def test_traces_screen_lists_turns_judges_and_shows_stats(tmp_path: Path) -> None:
    app, hook = app_for(tmp_path, [*edit_replies("TIMEOUT", "37", "60"), "Hello."])
    async with app.run_test(size=(120, 34)) as pilot:
        await send(pilot, app, "Change TIMEOUT in config.py to 60.")
        await send(pilot, app, "Say hello.")  # moving on judges the first turn a success
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, TracesScreen)
                    and app.screen.query_one("#traces-table", DataTable).row_count == 2)
        screen = app.screen
        assert isinstance(screen, TracesScreen)
        table = screen.query_one("#traces-table", DataTable)
        assert table.get_row_at(0)[2] == "Say hello." and table.get_row_at(0)[5] == "unjudged"
        assert table.get_row_at(1)[5] == "✓ next_action"
        detail = str(screen.query_one("#trace-detail", Static).render())
        assert "Say hello." in detail
        await pilot.press("down")
        await until(pilot, lambda: "edit_file" in str(screen.query_one("#trace-detail",
                                                                        Static).render()))
        await pilot.press("b")  # the user disagrees: the first turn was bad
        await until(pilot, lambda: table.row_count == 2 and table.get_row_at(1)[5] == "✗ user")
        await pilot.press("s")
        await until(pilot, lambda: table.row_count == 2 and "budget" in [
            str(c.label) for c in table.columns.values()])
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TracesScreen))
    first = hook.learner.traces.turns()[-1]
    assert first.success is False and first.judged_by == "user"


async def test_stats_and_traces_export_commands(tmp_path: Path) -> None:
    app, _ = app_for(tmp_path, edit_replies("TIMEOUT", "37", "60"))
    async with app.run_test(size=(120, 34)) as pilot:
        await send(pilot, app, "Change TIMEOUT in config.py to 60.")
        await pilot.press("alt+up")
        await send(pilot, app, "/stats")
        await until(pilot, lambda: any("Per kind of task" in n for n in notices(app)))
        stats = next(n for n in notices(app) if "Per kind of task" in n)
        assert "change-name-in-path-py-to-num" in stats and "100% of 1" in stats
        await send(pilot, app, "/traces export out/train.jsonl")
        await until(pilot, lambda: any("Exported 1 successful" in n for n in notices(app)))
    line = json.loads((tmp_path / "out" / "train.jsonl").read_text())
    roles = [m["role"] for m in line["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert line["messages"][3]["tool_calls"][0]["function"]["name"] == "edit_file"
    assert (tmp_path / "out" / "train.negatives.jsonl").read_text() == ""


async def test_skills_show_edit_disable_delete_a_learned_recipe(tmp_path: Path) -> None:
    replies: list[ScriptedReply | str] = []
    for e in EDITS:
        replies += edit_replies(*e)
    app, hook = app_for(tmp_path, replies)
    async with app.run_test(size=(120, 34)) as pilot:
        for name, _, new in EDITS:
            await send(pilot, app, f"Change {name} in config.py to {new}.")
            await pilot.press("alt+up")
        (recipe,) = hook.learner.book.load().values()
        await send(pilot, app, "/skills")
        await until(pilot, lambda: any("Learned recipes" in n for n in notices(app)))
        listing = next(n for n in notices(app) if "Learned recipes" in n)
        assert f"{recipe.name} [enabled]: read_file → edit_file" in listing
        await send(pilot, app, f"/skills show {recipe.name}")
        await until(pilot, lambda: any("learned: true" in n for n in notices(app)))
        # Edit in the app: a broken file is refused, a good edit is saved.
        await send(pilot, app, f"/skills edit {recipe.name}")
        await until(pilot, lambda: isinstance(app.screen, SkillEditor))
        area = app.screen.query_one("#skill-text", TextArea)
        good = area.text.replace("runs by itself", "runs on its own")
        area.text = "no front matter"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Not saved" in str(app.screen.query_one(
            "#skill-error", Static).render()))
        area.text = good
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, SkillEditor))
        assert recipe.path is not None
        assert "runs on its own" in read_skill_file(recipe.path).description
        await send(pilot, app, f"/skills disable {recipe.name}")
        await until(pilot, lambda: any("disabled" in n for n in notices(app)))
        assert hook.learner.book.load()[recipe.name].enabled is False
        await send(pilot, app, f"/skills enable {recipe.name}")
        await until(pilot, lambda: any(" enabled: it runs again" in n for n in notices(app)))
        assert hook.learner.book.load()[recipe.name].enabled is True
        await send(pilot, app, f"/skills delete {recipe.name}")
        await until(pilot, lambda: any("Deleted the learned recipe" in n for n in notices(app)))
        assert hook.learner.book.load() == {} and not recipe.path.exists()
        # A recipe deleted is not learned again from the same runs.
        assert hook.learner.maybe_crystallise(hook.learner.traces.turns()[0].category) is None
    assert app.factory.learning is hook and hook in app.session.hooks
