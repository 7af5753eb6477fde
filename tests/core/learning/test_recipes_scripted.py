"""Recipes on a scripted provider: repeated successes crystallise one, the next matching task runs
it (the model only answers), a recipe that keeps failing is demoted, and budgets come from
history."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, Notice, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.learning.hook import LearningHook
from app.core.learning.learner import Learner
from app.core.learning.recipes import Recipe, Step, from_skill
from app.core.learning.shapes import shape
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import LearningConfig
from app.core.skills.format import read_skill_file
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools

CONFIG = "TIMEOUT = 37\nMAX_RETRIES = 4\nDB_PATH = 'data/stock.db'\nCURRENCY = 'EUR'\n"


def learner(tmp_path: Path, **changes: object) -> Learner:
    cfg = LearningConfig(**{"crystallise_after": 3, "budget_min_runs": 3, **changes})  # type: ignore[arg-type]
    return Learner(cfg, state_dir=tmp_path / "state", skills_dir=tmp_path / "skills")


def workspace(tmp_path: Path, name: str) -> Path:
    ws = tmp_path / name
    (ws / "app").mkdir(parents=True)
    (ws / "app" / "config.py").write_text(CONFIG)
    (ws / "notes.txt").write_text("nothing here\n")
    return ws


def session_for(ws: Path, provider: ScriptedProvider, learn: Learner) -> tuple[Session, LearningHook,
                                                                               list[Event]]:
    hook = LearningHook(learn)
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True, hooks=[hook])
    events: list[Event] = []
    session.add_listener(events.append)
    return session, hook, events


async def edit_by_model(tmp_path: Path, learn: Learner, i: int, name: str, old: str,
                        new: str, answer: str = "") -> tuple[Session, LearningHook]:
    ws = workspace(tmp_path, f"ws{i}")
    provider = ScriptedProvider([
        ScriptedReply.call("read_file", path="app/config.py"),
        ScriptedReply.call("edit_file", path="app/config.py", old_text=f"{name} = {old}",
                           new_text=f"{name} = {new}"),
        answer or f"Set {name} to {new}.",
    ])
    session, hook, _ = session_for(ws, provider, learn)
    outcome = await session.run_turn(f"Change {name} in app/config.py to {new}.")
    assert outcome.status == "finished"
    assert f"{name} = {new}" in (ws / "app" / "config.py").read_text()
    return session, hook


# The model answered each differently: no answer form is shared, so the model answers recipe runs.
VARIED = ("Set TIMEOUT to 60.", "Done, MAX_RETRIES is 9 now.", "Changed the timeout to 15.")


async def test_repeated_successes_crystallise_a_recipe_that_is_then_used(tmp_path: Path) -> None:
    learn = learner(tmp_path)
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learn, i, name, old, new, VARIED[i])
        assert learn.book.load() == {}  # nothing learned before the check says so
        hook.judge_last(session, True, "check")
    recipes = learn.book.load()
    assert len(recipes) == 1
    recipe = next(iter(recipes.values()))
    assert [s.tool for s in recipe.steps] == ["read_file", "edit_file"]
    edit = recipe.steps[1].args
    assert edit["path"] == {"template": "{{path0}}"}
    assert edit["new_text"] == {"template": "{{name0}} = {{num0}}"}
    assert edit["old_text"] == {"line_of": 0, "containing": "{{name0}}"}
    assert recipe.stats["learned_from"] == 3 and recipe.stats["success_rate"] == 1.0
    assert recipe.answer is None
    # It is an ordinary skill file, marked learned.
    assert recipe.path is not None
    skill = read_skill_file(recipe.path)
    assert skill.metadata["learned"] is True and from_skill(skill) == recipe

    # A new task of the same kind: the recipe runs the calls; the model is asked only to answer.
    ws = workspace(tmp_path, "ws-new")
    provider = ScriptedProvider(["Done: MAX_RETRIES is 12 now."])
    session, hook, events = session_for(ws, provider, learn)
    outcome = await session.run_turn("Change MAX_RETRIES in app/config.py to 12.")
    assert outcome.status == "finished" and outcome.text == "Done: MAX_RETRIES is 12 now."
    text = (ws / "app" / "config.py").read_text()
    assert "MAX_RETRIES = 12" in text and "TIMEOUT = 37" in text
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.name, e.arguments.get("old_text")) for e in started] == [
        ("read_file", None), ("edit_file", "MAX_RETRIES = 4")]
    assert len(provider.requests) == 1 and provider.requests[0].answer_only
    assert any(isinstance(e, Notice) and "learned recipe" in e.text for e in events)
    trace = learn.traces.turns(last=1)[0]
    assert trace.record["recipe"] == recipe.name and trace.record["recipe_completed"]
    assert trace.steps == 1  # one model step: the answer

    hook.judge_last(session, True, "check")
    used = learn.book.load()[recipe.name]
    assert used.stats["uses"] == 1 and used.stats["successes"] == 1 and used.enabled


async def test_a_failing_recipe_is_demoted(tmp_path: Path) -> None:
    learn = learner(tmp_path)
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learn, i, name, old, new)
        hook.judge_last(session, True, "check")
    (name,) = learn.book.load()
    for n in range(2):  # the recipe runs, but its results are judged wrong twice
        ws = workspace(tmp_path, f"bad{n}")
        session, hook, _ = session_for(ws, ScriptedProvider(["Done."]), learn)
        await session.run_turn(f"Change TIMEOUT in app/config.py to {70 + n}.")
        assert learn.traces.turns(last=1)[0].record["recipe"] == name
        hook.judge_last(session, False, "check")
    recipe = learn.book.load()[name]
    assert not recipe.enabled and "2 of its last 2 uses failed" in recipe.demoted
    assert hook.learned and hook.learned[-1].demoted is not None
    # Demoted: the next matching task goes to the model again.
    ws = workspace(tmp_path, "after")
    provider = ScriptedProvider(["I would rather not."])
    session, _, events = session_for(ws, provider, learn)
    await session.run_turn("Change TIMEOUT in app/config.py to 99.")
    assert not any(isinstance(e, ToolCallStarted) for e in events)
    assert not provider.requests[0].answer_only


async def test_a_recipe_whose_step_cannot_bind_hands_over_to_the_model(tmp_path: Path) -> None:
    learn = learner(tmp_path)
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learn, i, name, old, new)
        hook.judge_last(session, True, "check")
    (name,) = learn.book.load()
    ws = workspace(tmp_path, "nobind")
    # No line of config.py holds VERBOSE: the edit step cannot be bound; the model goes on.
    provider = ScriptedProvider([ScriptedReply.call("write_file", path="app/extra.py",
                                                    content="VERBOSE = 1\n"), "Added it."])
    session, _, events = session_for(ws, provider, learn)
    outcome = await session.run_turn("Change VERBOSE in app/config.py to 1.")
    assert outcome.text == "Added it."
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == ["read_file",
                                                                         "write_file"]
    assert any(isinstance(e, Notice) and e.level == "warning" and "stopped" in e.text
               for e in events)
    assert not provider.requests[0].answer_only
    assert learn.book.load()[name].stats["failures"] == 1


async def test_budget_and_norm_come_from_history(tmp_path: Path) -> None:
    learn = learner(tmp_path, recipes=False)
    for i in range(3):
        session, hook = await edit_by_model(tmp_path, learn, i, "TIMEOUT", "37", str(50 + i))
        hook.judge_last(session, True, "check")
    (row,) = learn.stats.table()
    assert row.runs == 3 and row.successes == 3 and row.avg_steps == 3.0
    assert row.budget == 5  # P75 of 3 steps, + 2
    # The next task of the kind runs under that budget: a model that loops is stopped at 5.
    ws = workspace(tmp_path, "loop")
    provider = ScriptedProvider([ScriptedReply.call("read_file", path="notes.txt",
                                                    lines=f"{n}:{n}") for n in range(1, 10)])
    session, hook, _events = session_for(ws, provider, learn)
    outcome = await session.run_turn("Change TIMEOUT in app/config.py to 1.")
    assert "step budget" in outcome.text and outcome.iterations == 5
    trace = learn.traces.turns(last=1)[0]
    assert trace.success is False and trace.judged_by == "status"


async def test_a_shared_answer_form_answers_without_the_model(tmp_path: Path) -> None:
    learn = learner(tmp_path)
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learn, i, name, old, new)
        hook.judge_last(session, True, "check")
    (recipe,) = learn.book.load().values()
    assert recipe.answer == {"template": "Set {{name0}} to {{num0}}.", "parts": []}
    assert "answers without the model" in recipe.body
    assert recipe.path is not None and from_skill(read_skill_file(recipe.path)) == recipe

    ws = workspace(tmp_path, "ws-new")
    provider = ScriptedProvider(["never asked"])
    session, hook, events = session_for(ws, provider, learn)
    outcome = await session.run_turn("Change MAX_RETRIES in app/config.py to 12.")
    assert outcome.status == "finished" and outcome.text == "Set MAX_RETRIES to 12."
    assert outcome.iterations == 0 and provider.requests == []
    assert any(isinstance(e, Notice) and "without a model step" in e.text for e in events)
    assert "MAX_RETRIES = 12" in (ws / "app" / "config.py").read_text()
    assert session.history[-1].role == "assistant" and session.history[-1].content == outcome.text
    trace = learn.traces.turns(last=1)[0]
    assert trace.record["recipe_completed"] and trace.steps == 0
    assert trace.record["answer"] == "Set MAX_RETRIES to 12."


PEOPLE = [("Ada Byron", "ada.12@example.org"), ("Tom Becker", "tom.34@example.org"),
          ("Mia Santos", "mia.56@example.org")]
ROWS = "name,email,city\n" + "".join(f"{n},{e},Leeds\n" for n, e in PEOPLE)


async def learn_email_lookups(tmp_path: Path, learn: Learner, *, grep: bool) -> None:
    """Three judged-good runs that read contacts.csv (and, with ``grep``, grepped it with a
    pattern the model chose: the person, or the e-mail it had read) and answered alike."""
    for i, (person, email) in enumerate(PEOPLE):
        ws = tmp_path / f"c{i}"
        ws.mkdir()
        (ws / "contacts.csv").write_text(ROWS)
        replies: list[ScriptedReply | str] = [ScriptedReply.call("read_file", path="contacts.csv")]
        if grep:
            replies.append(ScriptedReply.call("grep", path="contacts.csv",
                                              pattern=person if i % 2 else email))
        replies.append(f"{person}'s email address is {email}.")
        session, hook, _ = session_for(ws, ScriptedProvider(replies), learn)
        await session.run_turn(f"What is {person}'s email address?")
        hook.judge_last(session, True, "check")


async def test_a_recipe_skips_reads_nothing_uses_and_quotes_the_field_it_needs(
        tmp_path: Path) -> None:
    """A new request runs the read alone (the grep would need the model to fill its pattern,
    and no rule reads its result) and answers from the person's row: no model step at all."""
    learn = learner(tmp_path)
    await learn_email_lookups(tmp_path, learn, grep=True)
    (recipe,) = learn.book.load().values()
    assert [s.tool for s in recipe.steps] == ["read_file", "grep"]
    assert recipe.steps[1].fills()  # the pattern is the model's to fill
    assert recipe.answer == {"template": "{{proper0}}'s email address is {{r0}}.",
                             "parts": [{"field_of": 0, "containing": "{{proper0}}",
                                        "offset": 1}]}
    ws = tmp_path / "new"
    ws.mkdir()
    (ws / "contacts.csv").write_text(ROWS.replace("Tom Becker,tom.34", "Tom Becker,tb.77"))
    provider = ScriptedProvider(["never asked"])
    session, _hook, events = session_for(ws, provider, learn)
    outcome = await session.run_turn("What is Tom Becker's email address?")
    assert outcome.text == "Tom Becker's email address is tb.77@example.org."
    assert provider.requests == []
    assert [e.name for e in events if isinstance(e, ToolCallStarted)] == ["read_file"]


async def test_an_answer_form_that_does_not_bind_leaves_the_answer_to_the_model(
        tmp_path: Path) -> None:
    learn = learner(tmp_path)
    await learn_email_lookups(tmp_path, learn, grep=False)
    ws = tmp_path / "two-rows"
    ws.mkdir()  # two rows for the person: which e-mail is not the recipe's to guess
    (ws / "contacts.csv").write_text(ROWS + "Tom Becker,tom.b@example.org,York\n")
    provider = ScriptedProvider(["Tom Becker has two addresses."])
    session, _, _ = session_for(ws, provider, learn)
    outcome = await session.run_turn("What is Tom Becker's email address?")
    assert outcome.text == "Tom Becker has two addresses."
    assert len(provider.requests) == 1 and provider.requests[0].answer_only


async def test_answer_forms_off_leaves_every_answer_to_the_model(tmp_path: Path) -> None:
    learn = learner(tmp_path, answer_forms=False)
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learn, i, name, old, new)
        hook.judge_last(session, True, "check")
    (recipe,) = learn.book.load().values()
    assert recipe.answer is not None  # learned, but not used
    provider = ScriptedProvider(["MAX_RETRIES is 12 now."])
    session, _, _ = session_for(workspace(tmp_path, "off"), provider, learn)
    outcome = await session.run_turn("Change MAX_RETRIES in app/config.py to 12.")
    assert outcome.text == "MAX_RETRIES is 12 now." and provider.requests[0].answer_only


async def test_a_recipes_bound_write_runs_as_bound_for_a_small_model(tmp_path: Path) -> None:
    """With the harness on a small model a write's content comes from a whole-file request to
    the model; a recipe's write is exact already, so it runs as bound and the model is not
    asked (asked for MAX_RETRIES = 199, the 0.5B model's rewrite set TIMEOUT to 199 too)."""
    learn = learner(tmp_path)
    request = "Change MAX_RETRIES in app/config.py to 199."
    learn.book.save(Recipe(
        "learned-change", shape(request), "d",
        (Step("read_file", {"path": {"template": "{{path0}}"}}),
         Step("write_file", {"path": {"template": "{{path0}}"},
                             "content": {"edit_of": 0, "containing": "{{name0}}",
                                         "set": "{{num0}}", "whole": True}})),
        answer={"template": "I updated {{path0}}.", "parts": []}))
    ws = workspace(tmp_path, "small")
    provider = ScriptedProvider(["never asked"])
    provider.capabilities = Capabilities(small=True)
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      hooks=[LearningHook(learn)], harness=Harness(HarnessConfig(), ws))
    outcome = await session.run_turn(request)
    assert outcome.text == "I updated app/config.py." and provider.requests == []
    assert (ws / "app" / "config.py").read_text() == CONFIG.replace("MAX_RETRIES = 4",
                                                                      "MAX_RETRIES = 199")
