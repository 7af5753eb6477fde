"""A guessed number is computed by a program: the model writes it in a request of its own (plain
text, no tools), the python tool runs it as a call the user sees, and the answer quotes what it
printed; a failing program is repaired once; an answer that still will not quote it is replaced by
the program's output, never by the guess."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.harness.compute import program_failure, program_from, program_messages
from tests.core.harness.test_scope_and_counts import session_for

ASK = "What is the total qty in stock.csv?"  # stock.csv: qty 10, 12, 7 → 29


def ran(events: list[Event]) -> list[str]:
    return [str(e.arguments.get("code", "")) for e in events
            if isinstance(e, ToolCallStarted) and e.name == "python"]


async def test_a_guessed_total_is_computed_by_a_program_and_quoted(tmp_path: Path) -> None:
    program = ("import csv\nprint(sum(int(r['qty']) for r in "
               "csv.DictReader(open('stock.csv'))))\n```")
    session, provider, events = session_for(tmp_path, "The total is 30.", program,
                                            "The total qty is 29.")
    out = await session.run_turn(ASK)
    assert out.text == "The total qty is 29."
    _first, write, answer = provider.requests
    # The program is asked for on its own: no tools, the question, the file's first lines, and
    # the reply starts inside a python block.
    assert write.tools == () and write.prefill == "```python\n" and write.temperature == 0.0
    asked = write.messages[-1].content
    assert asked.endswith(f"Question: {ASK}\nWrite the program.")
    assert "The file stock.csv (a table" in asked and "apple,10" in asked
    assert ran(events) == [program.removesuffix("\n```")]  # the user sees the call
    done = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "python"]
    assert done[0].content.strip() == "29" and not done[0].is_error
    # The answer step quotes the output and may not call anything.
    assert answer.answer_only and answer.messages[-1].content.startswith("Result: 29\n")
    assert session.harness is not None and session.harness.counters["programs"] == 1


async def test_a_failing_program_is_repaired_once_with_its_error(tmp_path: Path) -> None:
    broken = "print(sum(int(r[2]) for r in open('stock.csv')))"  # sums the header: ValueError
    fixed = "import csv\nprint(sum(int(r['qty']) for r in csv.DictReader(open('stock.csv'))))"
    session, provider, events = session_for(tmp_path, "The total is 30.", broken, fixed,
                                            "It is 29.")
    out = await session.run_turn(ASK)
    assert out.text == "It is 29."
    repair = provider.requests[2]
    assert repair.messages[-2].content == f"```python\n{broken}\n```"
    assert repair.messages[-1].content.startswith("The program failed: ")
    assert "ValueError" in repair.messages[-1].content
    # Sampled, where the first program is greedy: the same request at 0 gives the same program.
    assert repair.temperature == 0.7 and provider.requests[1].temperature == 0.0
    assert ran(events) == [broken, fixed]


async def test_a_program_that_fails_twice_is_not_tried_again_by_hand(tmp_path: Path) -> None:
    broken = "print(int(open('stock.csv').readline()))"  # int('name,qty'): ValueError
    session, provider, events = session_for(tmp_path, "The total is 30.", broken, broken,
                                            "I could not find it.")
    out = await session.run_turn(ASK)
    assert ran(events) == [broken, broken]
    last = provider.requests[-1]
    assert "python" not in {t.name for t in last.tools}
    assert "Quote the line that gives the answer" in last.messages[-1].content
    assert out.text == "I could not find it."
    assert session.harness is not None and session.harness.counters["programs_failed"] == 1


async def test_an_answer_that_will_not_quote_the_output_is_replaced_by_it(
        tmp_path: Path) -> None:
    program = "import csv\nprint(sum(int(r['qty']) for r in csv.DictReader(open('stock.csv'))))"
    session, _, _ = session_for(tmp_path, "The total is 30.", program, "The total is 30.")
    out = await session.run_turn(ASK)
    assert "30" not in out.text
    assert out.text == "A short program computed it from the files (shown above): 29"
    # An output without a number answers no guessed number: "could not find" instead.
    words = "print(open('stock.csv').readline().strip())"
    session, _, _ = session_for(tmp_path / "b", "The total is 30.", words, "The total is 30.")
    out = await session.run_turn(ASK)
    assert out.text.startswith("I could not find that")


async def test_without_the_python_tool_or_when_off_the_answer_is_retried_as_before(
        tmp_path: Path) -> None:
    session, provider, events = session_for(tmp_path, "The total is 30.", "It is 29.",
                                            compute_programs=False)
    out = await session.run_turn(ASK)
    assert ran(events) == [] and len(provider.requests) == 2
    assert out.text.startswith("I could not find that")  # 29 was never read nor computed


async def test_a_refused_program_ends_the_turn_without_the_guess(tmp_path: Path) -> None:
    program = "print(len(open('stock.csv').read()))"
    session, provider, events = session_for(tmp_path, "The total is 30.", program,
                                            "The total is 30.")
    session._auto_approve = False  # no approver: the python call is refused
    out = await session.run_turn(ASK)
    assert ran(events) == [program]
    assert out.text.startswith("I won't guess that number: nothing I read states it")
    assert "30" not in out.text and "Approve the python tool" in out.text
    assert len(provider.requests) == 2  # no step after the refusal


async def test_a_program_that_opens_no_file_the_question_names_is_not_run(
        tmp_path: Path) -> None:
    # It would compute something else (the installed package's version, a number it typed in).
    elsewhere = "import sys\nprint(sys.version_info.minor)"
    program = "import csv\nprint(sum(int(r['qty']) for r in csv.DictReader(open('stock.csv'))))"
    session, provider, events = session_for(tmp_path, "The total is 30.", elsewhere, program,
                                            "The total qty is 29.")
    out = await session.run_turn(ASK)
    assert ran(events) == [program]  # the first one never ran
    repair = provider.requests[2].messages[-1].content
    assert "does not open stock.csv, which the question is about" in repair
    assert out.text == "The total qty is 29."


def test_programs_are_cut_from_their_block_and_failures_named() -> None:
    assert program_from("x = 1\nprint(x)\n```\nThis prints 1.") == "x = 1\nprint(x)"
    assert program_from("```python\nprint(2)\n```") == "print(2)"
    assert program_from("   \n```") == ""
    assert program_failure("Traceback ...\nValueError: bad\n[exit code 1]", True) == (
        "ValueError: bad")
    assert program_failure("", False) == "it printed nothing; print the answer"
    assert program_failure("(no output: the program printed nothing; print the result)",
                           False) == "it printed nothing; print the answer"
    assert program_failure("29\n", False) == ""
    long = "\n".join(f"row {i}" for i in range(30))
    shown = program_messages("How many rows?", [("t.txt", long)])[-1].content
    assert "row 7" in shown and "row 8" not in shown and "(30 lines in all)" in shown
