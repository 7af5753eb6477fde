"""The rules a recipe learns for its arguments and its answer: each is learned only when it
reproduces every run, and refuses (Unbound) where it cannot be sure."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.core.learning.rules import (
    Unbound,
    answer_rule,
    bind,
    edit_rule,
    render_answer,
    set_value_after,
)
from app.core.learning.shapes import slots
from app.core.learning.stats import Run, StatsDB


def settings(**values: object) -> str:
    return json.dumps({"theme": "dark", **values, "lang": "en"}, indent=2) + "\n"


def test_a_whole_file_write_that_sets_one_value_becomes_an_edit_rule() -> None:
    samples = []
    for key, old, new in (("font_size", 12, 14), ("auto_save", 5, 30), ("font_size", 9, 21)):
        before = settings(font_size=old if key == "font_size" else 10,
                          auto_save=old if key == "auto_save" else 3)
        after = before.replace(f'"{key}": {old}', f'"{key}": {new}')
        request = f"In settings.json, change {key} to {new}."
        samples.append((after, slots(request), [before]))
    rule = edit_rule(samples)
    assert rule == {"edit_of": 0, "containing": "{{name0}}", "set": "{{num0}}", "whole": True}
    new = bind(rule, slots("In settings.json, change auto_save to 45."),
               [settings(font_size=11, auto_save=2)])
    assert json.loads(new) == {"theme": "dark", "font_size": 11, "auto_save": 45, "lang": "en"}


def test_an_edit_that_changes_another_line_too_is_no_rule() -> None:
    before = "TIMEOUT = 37\nMAX_RETRIES = 4\n"
    samples = [("TIMEOUT = 60\nMAX_RETRIES = 60\n", slots("Set TIMEOUT to 60."), [before]),
               ("TIMEOUT = 10\nMAX_RETRIES = 4\n", slots("Set TIMEOUT to 10."), [before])]
    assert edit_rule(samples) is None


def test_set_value_after_keeps_quotes_and_what_follows() -> None:
    assert set_value_after('NAME = "old"  # who\n', "NAME", "new") == 'NAME = "new"  # who\n'
    assert set_value_after('  "size": 12,\n', "size", "14") == '  "size": 14,\n'
    assert set_value_after("retries: 3\n", "retries", "5") == "retries: 5\n"
    with pytest.raises(Unbound):
        set_value_after("nothing here\n", "retries", "5")


def test_a_field_rule_refuses_a_line_it_cannot_pick() -> None:
    rule = {"field_of": 0, "containing": "{{proper0}}", "offset": 1}
    values = slots("What is Tom Becker's email?")
    assert bind(rule, values, ["Tom Becker,tb@x.org,York\n"]) == "tb@x.org"
    with pytest.raises(Unbound):  # two rows: ambiguous
        bind(rule, values, ["Tom Becker,tb@x.org,York\nTom Becker,t2@x.org,Leeds\n"])
    with pytest.raises(Unbound):  # no row
        bind(rule, values, ["Ada,ada@x.org,York\n"])


def _runs(answers: list[str], requests: list[str], results: list[list[str]]
          ) -> dict[str, object] | None:
    return answer_rule(answers, [(slots(q), r) for q, r in zip(requests, results, strict=True)])


def test_the_answer_form_quotes_the_program_output() -> None:
    requests = ["Run a.py and tell me what it prints.", "Run b.py and tell me what it prints."]
    results = [["", "Hello, Ada!"], ["", "Hello, Bo!"]]
    answers = ['I ran `python a.py`; it printed "Hello, Ada!".',
               'I ran `python b.py`; it printed "Hello, Bo!".']
    rule = _runs(answers, requests, results)
    assert rule == {"template": 'I ran `python {{path0}}`; it printed "{{r0}}".',
                    "parts": [{"out": 1}]}
    assert render_answer(rule, slots("Run c.py and tell me what it prints."),
                         ["", "Hi, Cy!\n"]) == 'I ran `python c.py`; it printed "Hi, Cy!".'


def test_an_answer_with_a_number_no_rule_explains_has_no_form() -> None:
    requests = ["Run a.py and tell me what it prints.", "Run b.py and tell me what it prints."]
    results = [["", "Hello, Ada!"], ["", "Hello, Bo!"]]
    answers = ['It printed "Hello, Ada!" in 3 ms.', 'It printed "Hello, Bo!" in 5 ms.']
    assert _runs(answers, requests, results) is None


def test_a_word_only_one_run_used_is_no_form() -> None:
    requests = ["Run a.py and tell me what it prints.", "Run b.py and tell me what it prints."]
    results = [["", "Hello, Ada!"], ["", "Hello, Bo!"]]
    answers = ['The greeting script printed "Hello, Ada!".', 'It printed "Hello, Bo!".']
    rule = _runs(answers, requests, results)
    # The newest run's wording has no word the other lacks, the older one's does.
    assert rule == {"template": 'It printed "{{r0}}".', "parts": [{"out": 1}]}


def test_answers_that_quote_different_things_have_no_form() -> None:
    requests = ["What is Ada Byron's email?", "What is Tom Becker's email?"]
    results = [["Ada Byron,ada@x.org,York\n"], ["Tom Becker,tb@x.org,Leeds\n"]]
    answers = ["It is ada@x.org.", "It is in Leeds."]
    assert _runs(answers, requests, results) is None


def test_runs_keep_their_answers_and_an_old_database_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "stats.db"
    db = sqlite3.connect(path)  # the table as it was before answers were kept
    db.execute("CREATE TABLE runs (trace_id TEXT PRIMARY KEY, ts REAL NOT NULL, category TEXT "
               "NOT NULL, shape TEXT NOT NULL DEFAULT '', task TEXT NOT NULL DEFAULT '', calls "
               "TEXT NOT NULL DEFAULT '[]', steps INTEGER NOT NULL DEFAULT 0, seconds REAL NOT "
               "NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0, success INTEGER, judged_by "
               "TEXT NOT NULL DEFAULT '', depth INTEGER NOT NULL DEFAULT 0, fan_out INTEGER NOT "
               "NULL DEFAULT 0, recipe TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', "
               "exported INTEGER NOT NULL DEFAULT 0)")
    db.execute("INSERT INTO runs(trace_id, ts, category) VALUES ('old', 1.0, 'c')")
    db.commit()
    db.close()
    stats = StatsDB(path)
    assert stats.run("old") == Run("old", "c", ts=1.0)
    stats.record(Run("new", "c", task="Say hi.", answer="Hi!", ts=2.0))
    new = stats.run("new")
    assert new is not None and new.answer == "Hi!"


def test_a_path_every_run_did_not_answer_is_no_wording() -> None:
    """Two runs asked about functions in storage.py, one about report.py: "storage.py" in the
    wording would be one run's value, stale for the next."""
    requests = ["In which file is the function load_items defined?",
                "In which file is the function save_items defined?",
                "In which file is the function format_row defined?"]
    answers = ["The function `load_items` is defined in the file `inventory/storage.py`.",
               "The function `save_items` is defined in the file `inventory/storage.py`.",
               "The function `format_row` is defined in the file `inventory/report.py`."]
    assert _runs(answers, requests, [[""], [""], [""]]) is None
    # Nor when every run happened to answer the same file.
    same = [a.replace("inventory/report.py", "inventory/storage.py") for a in answers]
    assert _runs(same, requests, [[""], [""], [""]]) is None
    # Where a rule over the results gives the path, it is a part, and the form holds.
    results = [["inventory/storage.py:14: def load_items(path):\n"],
               ["inventory/storage.py:20: def save_items(path, items):\n"],
               ["inventory/report.py:7: def format_row(name):\n"]]
    rule = _runs(answers, requests, results)
    assert rule is not None and rule["template"] == (
        "The function `{{name0}}` is defined in the file `{{r0}}`.")
