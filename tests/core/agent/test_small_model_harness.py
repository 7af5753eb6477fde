"""What carries a small model: step plans and nudges, tool subsets, call and argument repair,
lenient parsing of every call format, and one-line labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.messages import Message, ToolCall
from app.core.agent.nudges import after_tool, answer_now, plan_steps, progress_lines, steps_done
from app.core.agent.session import Session, SessionOptions
from app.core.agent.tool_selection import select_tools
from app.core.policy.permissions import PermissionGate
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.tool_config import PermissionsConfig
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools
from app.core.tools.labels import exec_label, label_for
from app.core.wire.tool_args import repair_call
from app.core.wire.tool_calls import CallStreamFilter, MarkupFilter, parse_tool_calls

REGISTRY = ToolRegistry(builtin_tools())
KNOWN = REGISTRY.names()


@pytest.mark.parametrize("request_text, steps", [
    ("create hello.py that prints hi, then run it", ["create hello.py that prints hi", "run it"]),
    ("fix the bug and run the tests", ["fix the bug", "run the tests"]),
    ("write x.txt; then cat it", ["write x.txt", "cat it"]),
    ("Read README.md and tell me what the project does",
     ["Read README.md and tell me what the project does"]),
    ("Open data/stations.txt and list the station names.",
     ["Open data/stations.txt and list the station names"]),
])
def test_plan_steps(request_text: str, steps: list[str]) -> None:
    assert plan_steps(request_text) == steps


def turn_after(*pairs: tuple[ToolCall, str, bool]) -> list[Message]:
    out = [Message(role="user", content="req")]
    for call, result, err in pairs:
        out += [Message(role="assistant", content="", tool_calls=(call,)),
                Message(role="tool", content=result, tool_call_id=call.id, name=call.name,
                        is_error=err)]
    return out


WRITE = ToolCall("c1", "write_file", {"path": "hello.py", "content": "print('hi')"})
RUN = ToolCall("c2", "exec", {"command": "python hello.py"})


def test_nudges_name_the_next_step_then_ask_for_the_answer() -> None:
    request = "create hello.py that prints hi, then run it"
    one = turn_after((WRITE, "Created hello.py (1 lines, 11 bytes).", False))
    assert steps_done(one) == 1
    text = after_tool(one, request, failed=False)
    assert "- write_file hello.py: Created hello.py (1 lines, 11 bytes)." in text
    assert 'Next step of my request "create hello.py that prints hi, then run it": "run it"' in text
    two = turn_after((WRITE, "Created hello.py.", False), (RUN, "hi", False))
    assert progress_lines(two)[-1] == '- exec python hello.py: output "hi"'
    final = answer_now(two, request)
    assert 'output "hi"' in final
    assert final.endswith('like: I created hello.py and ran `python hello.py`; it printed "hi".')
    long_run = turn_after((RUN, "line\n" * 50, False))
    # Only a run with long output: the answer is about the output, no shape ending in "...".
    assert answer_now(long_run, "What max does it report?") == (
        "My request: What max does it report?\nAnswer it now from the tool results above, in "
        "one plain sentence that states the answer itself.")
    both = turn_after((WRITE, "Created hello.py.", False), (RUN, "line\n" * 50, False))
    # Long output: no "..." in the shape (the 0.5B model answered 'it printed "..."').
    assert answer_now(both, request).endswith("like: I created hello.py and ran "
                                              "`python hello.py`.")
    lines = turn_after((WRITE, "Created p.py.", False), (RUN, "2\n3\n5\n7\n", False))
    assert answer_now(lines, request).endswith('ran `python hello.py`; it printed "2 3 5 7".')
    over = turn_after((WRITE, "Overwrote hello.py (1 lines).", False))
    assert answer_now(over, request).endswith("like: I updated hello.py.")
    read = answer_now(turn_after((ToolCall("c3", "read_file", {"path": "a"}), "x", False)), "q?")
    # The instruction comes last: ending on the quoted request, the 0.5B model copied it.
    assert read.startswith("My request: q?\n") and read.endswith("states the answer itself.")
    failed = turn_after((RUN, "Error: boom", True))
    assert steps_done(failed) == 0 and "failed" in after_tool(failed, request, failed=True)
    # A run that fails reopens the step before it: the file needs fixing.
    bad_file = turn_after((WRITE, "Created hello.py.", False), (RUN, "NameError: hi", True))
    assert steps_done(bad_file) == 0
    assert '"create hello.py that prints hi". Fix what went wrong' in after_tool(
        bad_file, request, failed=True)
    single = after_tool(failed, "what is in a.txt?", failed=True)
    assert "If it needs no tool, answer it directly" in single


async def test_small_model_gets_step_nudges_and_an_answer_only_step(tmp_path: Path) -> None:
    provider = ScriptedProvider([
        ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n"),
        ScriptedReply.call("exec", command="python hello.py"),
        "I created hello.py and ran it; it printed hi."])
    provider.capabilities = Capabilities(tool_nudge=True,
                                         core_tools=("read_file", "list_dir", "write_file", "exec"))
    session = Session(provider, tools=REGISTRY, options=SessionOptions(workspace=tmp_path),
                      permissions=PermissionGate(PermissionsConfig(tools={"write_file": "allow",
                                                                  "exec": "allow"})))
    events: list[Event] = []
    session.add_listener(events.append)
    outcome = await session.run_turn("create hello.py that prints hi, then run it")
    assert outcome.text.endswith("it printed hi.")
    assert [e.content for e in events if isinstance(e, ToolCallFinished)][1] == "hi"
    first, second, third = provider.requests
    assert [t.name for t in first.tools] == ["read_file", "list_dir", "write_file", "exec"]
    assert '"run it". Call the tool for it now.' in second.messages[-1].content
    assert third.answer_only and third.tools == second.tools  # the cached prefix holds
    assert 'output "hi"' in third.messages[-1].content


def test_small_models_get_a_fixed_core_and_the_web_only_when_asked() -> None:
    specs = REGISTRY.specs()
    core = ("read_file", "list_dir", "grep", "write_file", "edit_file", "exec", "python")

    def names(text: str, used: tuple[str, ...] = ()) -> list[str]:
        return [s.name for s in select_tools(specs, text, core, used)]

    assert set(names("what is in a.txt?")) == set(core)
    assert names("Mark 'Renew passport' as done in todo.md") == names("What is 17*3?")
    assert "web_fetch" in names("summarise https://example.org")
    assert "web_search" in names("search the web for llama.cpp")
    assert "web_fetch" not in names("fetch the latest rows from data.csv")
    assert "glob" in names("hi", used=("glob",))
    assert [s.name for s in select_tools(specs, "x", ())] == [s.name for s in specs]


@pytest.mark.parametrize("name, args, fixed_name, fixed_args", [
    ("read", {"file": "a.txt"}, "read_file", {"path": "a.txt"}),
    ("Read-File", {"path": "a.txt", "lines": [2, 5]}, "read_file", {"path": "a.txt", "lines": "2:5"}),
    ("bash", {"cmd": "ls"}, "exec", {"command": "ls"}),
    ("run_command", {"command": ["python", "a.py"]}, "exec", {"command": "python a.py"}),
    ("create_file", {"filename": "x.py", "text": "print(1)"}, "write_file",
     {"path": "x.py", "content": "print(1)"}),
    ("edit_file", {"path": "a", "old_str": "x", "new_str": "y", "replace_all": "true"},
     "edit_file", {"path": "a", "old_text": "x", "new_text": "y", "replace_all": True}),
    ("exec", {"_raw": "ls -la"}, "exec", {"command": "ls -la"}),
    ("exec", {"command": "ls", "timeout": "30"}, "exec", {"command": "ls", "timeout": 30}),
    ("run_file", {"path": "primes.py"}, "exec", {"command": "python primes.py"}),
    ("exec", {"file": "build.sh"}, "exec", {"command": "sh build.sh"}),
    ("run_file", {"path": "notes.txt"}, "exec", {"path": "notes.txt"}),  # not a script: no reading
    ("teleport", {"to": "mars"}, "teleport", {"to": "mars"}),  # no reading: left as it is
    ("read_file", {"path": 42}, "read_file", {"path": 42}),  # a type error the model must see
])
def test_call_repairs(name: str, args: dict[str, object], fixed_name: str,
                      fixed_args: dict[str, object]) -> None:
    fixed, _ = repair_call(ToolCall("c", name, args), REGISTRY)
    assert (fixed.name, fixed.arguments) == (fixed_name, fixed_args)


@pytest.mark.parametrize("text, calls, visible", [
    ('Let me look.<tool_call>{"name": "list_dir", "arguments": {}}<tool_call>'
     '{"name": "read_file", "arguments": {"path": "a"}}</tool_call>', ["list_dir", "read_file"],
     "Let me look."),
    ('{"name": "read_file", "arguments": {"path": "a"}}\n{"name": "exec", "arguments": '
     '{"command": "ls"}}', ["read_file", "exec"], ""),
    ('[TOOL_CALLS][{"name": "exec", "arguments": {"command": "ls"}}]', ["exec"], ""),
    ('<|python_tag|>{"name": "exec", "parameters": {"command": "ls"}}', ["exec"], ""),
    ('Running it: <function=exec>{"command": "ls"}</function>', ["exec"], "Running it:"),
    ('<tool_call>{"name": "exec", "arguments": {"command": "ls",}}</tool_call>', ["exec"], ""),
    ('<tool_call>\n{"name": "exec", "arguments": {"command": "echo \\"a\\""', ["exec"], ""),
])
def test_every_call_format_parses(text: str, calls: list[str], visible: str) -> None:
    result = parse_tool_calls(text, KNOWN)
    assert [c.name for c in result.calls] == calls and result.text == visible
    assert len({c.id for c in result.calls}) == len(calls)  # ids generated, unique


def test_function_markup_is_hidden_while_streaming() -> None:
    f = MarkupFilter()
    pieces = ["Ok <func", 'tion=exec>{"command":', ' "ls"}</func', "tion> done"]
    assert "".join(f.feed(p) for p in pieces) + f.flush() == "Ok  done"
    g = CallStreamFilter()
    assert "".join(g.feed(p) for p in ["<|python", '_tag|>{"name": "exec"}']) == ""


def test_labels_are_one_human_line() -> None:
    assert label_for("read_file", {"path": "app/core/session.py"}) == "Reading app/core/session.py"
    assert label_for("read_file", {"path": "a.py", "lines": "1:40"}) == "Reading a.py (lines 1:40)"
    assert exec_label("python -m pytest -q tests/") == "Running tests"
    assert exec_label("pip install httpx") == "Installing packages"
    assert exec_label("python hello.py") == "Running hello.py"
    assert exec_label("git status") == "Running git status"
    assert exec_label("for i in 1 2; do\n echo $i\ndone") == "Running `for i in 1 2; do` …"
    assert label_for("web_fetch", {"url": "https://example.org/a?b"}) == "Fetching example.org"
    assert label_for("grep", {"pattern": "TODO", "path": "app"}) == "Searching for TODO in app"
    assert label_for("mystery", {}) == "Calling mystery"
    long = label_for("exec", {"command": "echo " + "x" * 200})
    assert len(long) <= 72 and "\n" not in long


async def test_labels_reach_the_events(tmp_path: Path) -> None:
    provider = ScriptedProvider([ScriptedReply.call("glob", pattern="*.py"), "none"])
    session = Session(provider, tools=REGISTRY, options=SessionOptions(workspace=tmp_path))
    events: list[Event] = []
    session.add_listener(events.append)
    await session.run_turn("python files?")
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    assert started.label == "Finding files *.py"


async def test_a_repeated_call_gets_one_retry_without_that_tool(tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n")
    again = ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n")
    provider = ScriptedProvider([write, again, ScriptedReply.call("exec", command="python hello.py"),
                                 "I created hello.py and ran it; it printed hi."])
    provider.capabilities = Capabilities(tool_nudge=True,
                                         core_tools=("read_file", "list_dir", "write_file", "exec"))
    session = Session(provider, tools=REGISTRY, options=SessionOptions(workspace=tmp_path),
                      permissions=PermissionGate(PermissionsConfig(tools={"write_file": "allow",
                                                                  "exec": "allow"})))
    outcome = await session.run_turn("create hello.py that prints hi, then run it")
    assert outcome.text.endswith("printed hi.")
    retry = provider.requests[2]
    assert "write_file" not in [t.name for t in retry.tools] and not retry.answer_only
    assert '"run it"' in retry.messages[-1].content
    assert provider.requests[3].answer_only


def test_failures_show_the_line_that_matters() -> None:
    trace = ('Traceback (most recent call last):\n  File "hello.py", line 1, in <module>\n'
             "    hi\nNameError: name 'hi' is not defined\n[exit code 1]")
    turn = turn_after((RUN, trace, True))
    assert progress_lines(turn) == ["- exec python hello.py: failed: NameError: name 'hi' is "
                                    "not defined"]


async def test_a_write_makes_an_identical_run_real_again(tmp_path: Path) -> None:
    run = ScriptedReply.call("exec", command="python hello.py")
    provider = ScriptedProvider([
        ScriptedReply.call("write_file", path="hello.py", content="hi\n"), run,
        ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n"),
        ScriptedReply.call("exec", command="python hello.py"), "It printed hi."])
    session = Session(provider, tools=REGISTRY, options=SessionOptions(workspace=tmp_path),
                      permissions=PermissionGate(PermissionsConfig(tools={"write_file": "allow",
                                                                  "exec": "allow"})))
    events: list[Event] = []
    session.add_listener(events.append)
    await session.run_turn("create hello.py that prints hi, then run it")
    runs = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "exec"]
    assert runs[0].is_error and "NameError" in runs[0].content
    assert runs[1].content == "hi"  # run again for real, not replayed from the cache


def test_result_labels() -> None:
    from app.core.tools.labels import result_label

    assert result_label("read_file", {"path": "a.py"}, "x\ny\n", False) == "Read a.py (2 lines)"
    assert result_label("list_dir", {}, "a\nb/\n", False) == "Listed . (2 entries)"
    assert result_label("exec", {"command": "python hello.py"}, "hi", False) == \
        "Ran hello.py: 1 line"
    assert result_label("exec", {"command": "true"}, "(no output)", False) == \
        "Ran `true`: no output"
    assert result_label("grep", {"pattern": "x"}, "a:1: x\nb:2: x", False) == "2 matches found"
    assert result_label("write_file", {}, "Created hello.py (1 lines, 11 bytes).\n", False) == \
        "Created hello.py (1 lines, 11 bytes)."
    assert result_label("exec", {}, "Refused: exec needs the user's approval", True) == \
        "Refused: exec needs the user's approval"
    brief = "[exec output is too large for the context window: 9 lines]\n..."
    assert result_label("exec", {"command": "make"}, brief, False, {"gate_handle": "@out2"}) == \
        "Running `make`: too large, briefed (full text in @out2)"
