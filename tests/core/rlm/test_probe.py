"""What the delegate's finding carries to the main model without the model: the lines that match
the request best, and the checks that keep a bad delegate answer out."""

from __future__ import annotations

import json

from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.rlm.delegate import Delegate
from app.core.rlm.probe import answer_problem, ranked_lines
from app.core.rlm.variables import Workspace

RUN = "\n".join(f"tests/test_{i % 53}.py::test_case_{i} PASSED [{i % 100:3d}%]"
                for i in range(1, 200)) + \
    "\ntests/test_33.py::test_sync_294 FAILED\n" + \
    "FAILED tests/test_33.py::test_sync_294 - AssertionError: expected 3 rows, got 2\n" + \
    "==== 1 failed, 199 passed in 12.50s ===="
TABLE = "id,customer,city,amount\n" + "\n".join(
    f"{k},cust{k * 7:05d},Oslo,{k * 13 % 9000}.{k % 100:02d}" for k in range(1, 900))


def workspace(text: str) -> Workspace:
    ws = Workspace()
    ws.add("output_0", text)
    return ws


def test_rare_words_rank_above_common_ones() -> None:
    lines = ranked_lines(workspace(RUN), "Run the tests and tell me which test failed.")
    # "fail" matches 3 lines, "test" every line: the failing test's lines come first and the
    # PASSED lines, which share only the common words, are left out.
    assert set(lines[:2]) == {
        "200: tests/test_33.py::test_sync_294 FAILED",
        "201: FAILED tests/test_33.py::test_sync_294 - AssertionError: expected 3 rows, got 2"}
    assert not any("PASSED" in ln for ln in lines)


def test_an_identifier_finds_its_row() -> None:
    lines = ranked_lines(workspace(TABLE), "What is the amount for customer cust00301?")
    assert "44: 43,cust00301,Oslo,559.43" in lines and "1: id,customer,city,amount" in lines


def test_answers_that_cannot_go_to_the_main_model() -> None:
    seen = ["output_0:44: 43,cust00301,Oslo,559.43", "output_0:1: id,customer,city,amount"]
    assert answer_problem("The amount for cust00301 is 559.43.", seen, "q") == ""
    # The variable's size (shown in its description, never in a line) is no amount.
    assert answer_problem("The amount for cust00301 is 30,013.", seen, "q") == \
        "no line it read holds 30,013"
    assert answer_problem("It is 9.43.", seen, "q") == "no line it read holds 9.43"
    assert answer_problem("No matching lines for 'x' in 'output_0'.", seen, "q") == \
        "it repeated a tool's message"
    assert answer_problem("The failing test: No matching lines for '3 line(s)' in 'output_0'.",
                          seen, "q") == "it repeated a tool's message"
    pasted = ["output_0:3: tests/test_3.py::test_case_3 PASSED [  3%]",
              "output_0:13: tests/test_13.py::test_case_13 PASSED [ 13%]",
              "output_0:23: tests/test_23.py::test_case_23 PASSED [ 23%]"]
    assert answer_problem(" ".join(ln.split(":", 1)[1] for ln in pasted), pasted, "q") == \
        "it pasted lines together instead of answering"


async def test_a_rejected_answer_leaves_the_best_lines_for_the_main_model() -> None:
    # The delegate answers with a number no line holds: its answer is left out, and the report
    # carries the row the request names, verbatim.
    reply = ScriptedReply.text(json.dumps({"name": "answer", "confidence": 0.95,
                                           "arguments": {"text": "The amount is 30,013."}}))
    delegate = Delegate(ScriptedProvider([reply] * 4), max_rounds=2)
    finding = await delegate.run("What is the amount for customer cust00301?\n(The text is the "
                                 "output of the tool exec: find what in it answers this request.)",
                                 workspace(TABLE),
                                 focus="What is the amount for customer cust00301?")
    assert finding.text == "" and finding.rejected == "no line it read holds 30,013"
    assert finding.usable()
    report = finding.report().splitlines()
    # Only the lines: neither the rejected answer nor a note about it reaches the main model.
    assert report[0] == "Lines of the output that match the request (number: text):"
    assert "  44: 43,cust00301,Oslo,559.43" in report
    assert not any("30,013" in line or "left out" in line for line in report)
