"""The agent-task grader: facts in answers, unsupported claims, workspace checks, fixture facts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.agent_fixtures import build
from bench.agent_grade import (
    CATEGORIES,
    FileCheck,
    RunCheck,
    Task,
    grade,
    grade_answer,
    has_fact,
    in_file,
    load_tasks,
    says_not_found,
    snapshot,
)


def test_the_task_set_meets_the_spec() -> None:
    tasks = load_tasks()
    assert len(tasks) >= 60
    assert {t.category for t in tasks} == set(CATEGORIES)
    assert len(CATEGORIES) >= 8
    assert all(t.grades_answer or t.files or t.runs for t in tasks), "every task is graded"


@pytest.mark.parametrize("answer, fact, ok", [
    ("TIMEOUT is **37**.", "37", True),
    ("TIMEOUT is 370.", "37", False),
    ("It is 3.7 seconds", "37", False),
    ("The budget is 18,500 EUR", "18500", True),
    ("The budget is 18500 EUR", "18,500", True),
    ("Launch: April 22", "22 April | April 22", True),
    ("The function is `check_sku`.", "check_sku", True),
    ("It prints -1", "-1", True),
    ("It prints 1", "-1", False),
    ('It printed "203.0".', "203", True),  # the same number, as python prints a float
    ("It printed 203.5", "203", False),
])
def test_facts_match_by_meaning_not_wording(answer: str, fact: str, ok: bool) -> None:
    assert has_fact(answer, fact) is ok


def test_a_wrong_value_is_an_unsupported_claim_and_not_found_is_honest() -> None:
    task = Task("t", "read", "inventory", "What is TIMEOUT?", answer=("37",), reject=("10",))
    assert grade_answer(task, "TIMEOUT is 37.")[:2] == (True, False)
    assert grade_answer(task, "The value of TIMEOUT is 10.")[:2] == (False, True)
    assert grade_answer(task, "TIMEOUT is 42.")[:2] == (False, True)
    assert grade_answer(task, "I could not find TIMEOUT in the workspace.")[:2] == (False, False)
    where = Task("w", "search", "inventory", "Which module imports CURRENCY?", answer=("report",))
    honest = "I could not find that in the workspace (I read inventory/report.py), so I won't guess."
    assert grade_answer(where, honest)[:2] == (False, False)  # the files it read are no answer
    absent = Task("a", "absent", "inventory", "What is the password?", not_found=True)
    assert grade_answer(absent, "There is no password in config.py.")[:2] == (True, False)
    assert grade_answer(absent, "The password is data/stock.db.")[:2] == (False, True)
    assert says_not_found("config.py does not define API_KEY")
    assert not says_not_found("API_KEY is abc123")


def test_workspace_grading_catches_collateral_damage(tmp_path: Path) -> None:
    ws = build("scripts", tmp_path / "ws")
    before = snapshot(ws)
    task = Task("e", "edit", "scripts", "fix calc.py", files=(FileCheck("calc.py", python=True),),
                runs=(RunCheck("python calc.py", ("5",)),))
    assert not grade(task, "", before, ws).passed  # the bug is still there
    (ws / "calc.py").write_text((ws / "calc.py").read_text().replace("a - b", "a + b"))
    assert grade(task, "done", before, ws).passed
    (ws / "greet.py").write_text("oops\n")
    g = grade(task, "done", before, ws)
    assert not g.passed and "greet.py was changed" in g.problems
    read_only = Task("r", "read", "scripts", "q", answer=("x",))
    (ws / "greet.py").write_bytes(before["greet.py"])
    (ws / "thank_you.txt").write_text("gracias")
    (ws / "calc.py").write_bytes(before["calc.py"])
    assert grade(read_only, "x", before, ws).problems == ["created thank_you.txt"]


def test_file_facts_match_as_whole_tokens(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "config.py").write_text("MAX_RETRIES = 89\nTIMEOUT = 600\n")
    task = Task("e", "edit", "inventory", "x", files=(FileCheck(
        "config.py", contains=("MAX_RETRIES = 89",), lacks=("MAX_RETRIES = 8",)),))
    assert grade(task, "", {}, ws).passed  # 89 is not "still 8"
    wrong = Task("e", "edit", "inventory", "x", files=(FileCheck(
        "config.py", contains=("TIMEOUT = 60",), lacks=("MAX_RETRIES = 89",)),))
    assert grade(wrong, "", {}, ws).problems == ["config.py lacks 'TIMEOUT = 60'",
                                                 "config.py still has 'MAX_RETRIES = 89'"]
    assert in_file('{"font_size": 16}', '"font_size": 16') and not in_file(
        '{"font_size": 160}', '"font_size": 16')


def _run(ws: Path, *argv: str) -> str:
    done = subprocess.run([sys.executable, *argv], cwd=ws, capture_output=True, text=True,
                          timeout=60)
    return done.stdout + done.stderr


def test_fixture_facts_the_tasks_rely_on(tmp_path: Path) -> None:
    scripts = build("scripts", tmp_path / "scripts")
    assert _run(scripts, "calc.py").strip() == "-1"
    assert _run(scripts, "convert.py").strip() == "203.0"
    assert "max 42" in _run(scripts, "stats.py") and "total 108" in _run(scripts, "stats.py")
    tests = _run(scripts, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_calc.py")
    assert "1 failed, 1 passed" in tests and "test_add" in tests
    inventory = build("inventory", tmp_path / "inventory")
    report = _run(inventory, "-m", "inventory.report")
    assert "shelf panel" in report and "225.00" in report
    rows = (inventory / "data/items.csv").read_text().splitlines()[1:]
    assert len(rows) == 6 and sum(int(r.split(",")[2]) for r in rows) == 637
    assert sum(int(r.split(",")[2]) < 12 for r in rows) == 2
    assert len(list((inventory / "inventory").glob("*.py"))) == 5
    notes = build("notes", tmp_path / "notes")
    todo = (notes / "todo.md").read_text()
    assert todo.count("- [ ]") == 4
    assert (notes / "contacts.csv").read_text().count(",Leeds") == 3


def test_facts_match_as_whole_words() -> None:
    from bench.agent_grade import has_fact

    # A wrong class name "Model" is not the file name "models.py" (a false "wrong value" before).
    assert not has_fact("The classes in inventory/models.py are Item and Warehouse.", "Model ")
    assert has_fact("It defines class Model.", "Model ")
    assert has_fact("Tom owns it.", "Tom | Tom Becker")
    assert not has_fact("Tomás owns it.", "Tom")
    assert has_fact("return s[::-1]", "[::-1] | reversed(")  # punctuation ends touch anything
