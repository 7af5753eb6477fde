"""What a request asks to run, the harness runs: before the first step when running comes first,
before the answer when the model never ran it (or changed the file after running it)."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, TextDelta, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session
from app.core.harness.runs import (
    only_runs_and_questions,
    requested_runs,
    runs_first,
    runs_here,
    same_run,
)
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from tests.core.harness.scripted import scripted_session

CORE = ("read_file", "list_dir", "grep", "write_file", "edit_file", "exec", "python")


def test_the_runs_a_request_asks_for_are_read_from_its_form() -> None:
    assert requested_runs("Run the report with python -m shop.report. What does it show?") == [
        "python -m shop.report"]
    assert requested_runs("Run calc.py. What does it print?") == ["python calc.py"]
    assert requested_runs("Create primes.py that prints primes, then run it.") == [
        "python primes.py"]
    assert requested_runs("Run `pytest -q` and tell me which test fails.") == ["pytest -q"]
    assert requested_runs("Execute the script build.sh") == ["sh build.sh"]
    # Words, not commands: a program's name in prose, a script that is only mentioned.
    assert requested_runs("Make sure the python version is right.") == []
    assert requested_runs("Which Python version does the project require?") == []
    assert requested_runs("Which function in calc.py divides two numbers?") == []
    assert requested_runs("Run the tests.") == []
    # "it" is a script only when the request names exactly one.
    assert requested_runs("Compare a.py and b.py, then run it.") == []


def test_running_first_and_nothing_but_running_are_told_apart() -> None:
    assert runs_first("Run calc.py. What does it print?")
    assert runs_first("What is the output of python convert.py?")
    assert not runs_first("Fix the bug in calc.py, then run python calc.py.")
    assert only_runs_and_questions("Run calc.py. What does it print?")
    assert not only_runs_and_questions("Run stats.py and save its output to stats.txt.")
    assert not only_runs_and_questions("Create p.py, then run it.")


def test_a_run_is_recognised_in_the_spellings_of_the_same_command(tmp_path: Path) -> None:
    assert same_run("python calc.py", "python3 ./calc.py")
    assert same_run("python -m shop.report", "python -m shop.report")
    assert not same_run("python calc.py", "python other.py")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop/report.py").write_text("print(1)\n")
    (tmp_path / "calc.py").write_text("print(1)\n")
    assert runs_here("python -m shop.report", tmp_path) and runs_here("python calc.py", tmp_path)
    assert not runs_here("python -m shop.other", tmp_path)
    assert not runs_here("python primes.py", tmp_path)


def session_for(tmp_path: Path, *replies: ScriptedReply | str,
                **cfg: object) -> tuple[Session, ScriptedProvider, list[Event]]:
    ws = tmp_path / "ws"
    ws.mkdir(parents=True)
    (ws / "calc.py").write_text("print(2 - 3)\n")
    return scripted_session(ws, *replies, capabilities=Capabilities(core_tools=CORE, small=True),
                            **cfg)


def runs(events: list[Event]) -> list[ToolCallStarted]:
    return [e for e in events if isinstance(e, ToolCallStarted) and e.name == "exec"]


async def test_a_script_to_run_and_ask_about_is_run_before_the_first_step(
        tmp_path: Path) -> None:
    session, provider, events = session_for(tmp_path, "It prints -1.")
    out = await session.run_turn("Run calc.py. What does it print?")
    assert out.text == "It prints -1."
    (ran,) = runs(events)
    assert ran.grounded and ran.arguments == {"command": "python calc.py"}
    first = provider.requests[0]
    shown = first.messages[-1].content
    assert "Already read and run for you:" in shown and "--- the output of `python calc.py` ---" in shown
    assert "-1" in shown
    # The answer is in the output: nothing to write, run again or read instead.
    assert first.tools == ()
    # Switched off, the model gets the request and the tools as before.
    session, provider, events = session_for(tmp_path / "off", "It prints -1.",
                                            requested_runs=False)
    await session.run_turn("Run calc.py. What does it print?")
    assert runs(events) == [] and provider.requests[0].tools


async def test_a_script_written_and_never_run_is_run_before_the_answer(tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="p.py", content="print(7)\n")
    session, provider, events = session_for(tmp_path, write, "I created p.py.", "It printed 7.",
                                            whole_file_writes=False)
    out = await session.run_turn("Create p.py that prints 7, then run it.")
    assert out.text == "It printed 7."
    (ran,) = runs(events)
    assert ran.arguments == {"command": "python p.py"}
    result = next(e for e in events if isinstance(e, ToolCallFinished) and e.name == "exec")
    assert result.content.startswith("7")
    # The draft "I created p.py." never reached history; the answer step was told why it ran.
    assert provider.requests[-1].messages[-1].content.startswith(
        "Your request asks to run `python p.py`, so I ran it")
    assert not any(m.content == "I created p.py." for m in session.history)


async def test_a_run_before_the_last_change_is_run_again_and_the_models_own_run_counts(
        tmp_path: Path) -> None:
    run = ScriptedReply.call("exec", command="python3 ./calc.py")
    session, _provider, events = session_for(tmp_path, run, "It printed -1.")
    await session.run_turn("Fix nothing in calc.py, then run it.")
    assert len(runs(events)) == 1  # the model ran it itself: not run twice
    edit = ScriptedReply.call("write_file", path="calc.py", content="print(3 - 2)\n")
    session, _provider, events = session_for(tmp_path / "b", run, edit, "Fixed.", "It prints 1.",
                                              whole_file_writes=False, read_before_write=False)
    out = await session.run_turn("Make calc.py print 1, then run calc.py.")
    assert [e.arguments["command"] for e in runs(events)] == ["python3 ./calc.py",
                                                            "python calc.py"]
    assert out.text == "It prints 1."


async def test_an_answer_that_shows_nothing_of_a_requested_run_gets_its_output(
        tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="p.py", content="print(2, 3, 5, 7)\n")
    run = ScriptedReply.call("exec", command="python p.py")
    session, _provider, events = session_for(tmp_path, write, run, "I created p.py.",
                                             whole_file_writes=False)
    out = await session.run_turn("Create p.py that prints the primes below 10, then run it.")
    assert out.text == "I created p.py.\n\n`python p.py` printed:\n```\n2 3 5 7\n```"
    # What streamed is what history keeps.
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == out.text
    assert session.history[-1].content == out.text
    assert session.harness is not None and session.harness.counters["reported_runs"] == 1
    # An answer that quotes what it printed is left as it is; a run not asked for adds nothing.
    session, _provider, _ = session_for(tmp_path / "b", write, run, "It printed 2 3 5 7.",
                                        whole_file_writes=False)
    out = await session.run_turn("Create p.py that prints the primes below 10, then run it.")
    assert out.text == "It printed 2 3 5 7."
    session, _provider, _ = session_for(tmp_path / "c", run, "Done.", whole_file_writes=False)
    (tmp_path / "c/ws/p.py").write_text("print(1)\n")
    out = await session.run_turn("Is p.py a script?")
    assert out.text == "Done."
