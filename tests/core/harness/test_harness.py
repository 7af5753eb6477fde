"""The agent harness on a scripted provider: map, grounded reads, constrained and validated calls,
read-before-write, syntax checks, the grounding check, loop ending, voting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.agent.events import (
    Event,
    ReplyRestarted,
    ToolCallFinished,
    ToolCallStarted,
)
from app.core.agent.messages import Message, ToolCall
from app.core.agent.session import Session, SessionOptions
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness, syntax_note
from app.core.harness.workspace import WorkspaceIndex
from app.core.providers.base import ProviderRequest
from app.core.providers.grammar import tool_or_text_gbnf
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.tools.base import ToolRegistry, ToolResult
from app.core.tools.defaults import builtin_tools
from tests.core.harness.scripted import scripted_session

REGISTRY_TOOLS = builtin_tools


def project(root: Path) -> Path:
    files = {
        "app/config.py": "TIMEOUT = 37\nNAME = 'shop'\n",
        "app/models.py": "class Item:\n    pass\n\n\ndef total(items):\n    return 0\n",
        "data/rows.csv": "id,name\n1,a\n2,b\n3,c\n",
        "notes.txt": "buy milk\n",
        "build/out.txt": "ignored\n",
        ".gitignore": "build/\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def session_with(tmp_path: Path, *replies: ScriptedReply | str,
                 **cfg: object) -> tuple[Session, ScriptedProvider, list[Event]]:
    return scripted_session(project(tmp_path / "ws"), *replies, **cfg)


# --- the workspace map ---------------------------------------------------------------------------

def test_map_lists_what_exists_respects_gitignore_and_fits_its_budget(tmp_path: Path) -> None:
    index = WorkspaceIndex.build(project(tmp_path))
    full = index.render_map(10_000)
    assert "app/config.py (2 lines): TIMEOUT = 37; NAME = 'shop'" in full
    assert "app/models.py (6 lines): class Item; def total(items)" in full
    assert "data/rows.csv (4 lines): columns: id,name" in full
    assert "build/" not in full
    small = index.render_map(60, request="what is in notes.txt?")
    assert small.splitlines()[0].startswith("notes.txt")  # the named file first when cut
    assert len(small) <= 60 + len("… and 9 more files")
    assert "more files" in small.splitlines()[-1]


def test_map_refreshes_only_when_a_file_changes(tmp_path: Path) -> None:
    index = WorkspaceIndex.build(project(tmp_path))
    assert not index.refresh()
    (tmp_path / "new.py").write_text("def hello():\n    pass\n")
    assert index.refresh()
    assert index.defines("hello") == ["new.py"]


# --- grounded reads ------------------------------------------------------------------------------

async def test_files_and_symbols_the_request_names_are_read_first_and_shown(
        tmp_path: Path) -> None:
    session, provider, events = session_with(tmp_path, "TIMEOUT is 37.")
    out = await session.run_turn("What is TIMEOUT in config.py, and what does total return?")
    assert out.text == "TIMEOUT is 37."
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.name, e.arguments["path"], e.grounded) for e in started] == [
        ("read_file", "app/config.py", True), ("read_file", "app/models.py", True)]
    first = provider.requests[0]
    # The model gets them attached to the request, like files the user attached, after the map.
    assert [m.role for m in first.messages] == ["system", "user"]
    user = first.messages[1].content
    assert user.startswith("Files in the workspace (path, line count, top-level names):\n")
    assert "app/config.py (2 lines)" in user
    assert "Already read for you:\n--- app/config.py ---\nTIMEOUT = 37" in user
    assert "--- app/models.py ---" in user
    assert user.endswith("\n\nWhat is TIMEOUT in config.py, and what does total return?")
    assert "app/config.py" not in first.messages[0].content  # the system prompt stays the same
    # History keeps them as the calls they were (the view and the session file show them).
    assert [m.role for m in session.history] == ["user", "assistant", "tool", "tool",
                                                 "assistant"]


async def test_no_grounded_read_when_nothing_is_named(tmp_path: Path) -> None:
    session, _, events = session_with(tmp_path, "Paris.")
    await session.run_turn("What is the capital of France?")
    assert not [e for e in events if isinstance(e, ToolCallStarted)]


# --- constrained and validated calls -------------------------------------------------------------

def test_read_tools_offer_only_existing_paths_and_the_grammar_holds_them(tmp_path: Path) -> None:
    h = Harness(HarnessConfig(), project(tmp_path))
    specs = h.offer(ToolRegistry(builtin_tools()).specs(), ["@out1"])
    by = {s.name: s for s in specs}
    assert by["read_file"].parameters["properties"]["path"]["enum"] == [
        "app/config.py", "app/models.py", "data/rows.csv", "notes.txt", "@out1"]
    assert by["list_dir"].parameters["properties"]["path"]["enum"] == [".", "app", "data"]
    assert "enum" not in by["write_file"].parameters["properties"]["path"]
    gbnf = tool_or_text_gbnf((by["read_file"],))
    assert '\\"app/config.py\\"' in gbnf and "notes.txt" in gbnf
    many = Harness(HarnessConfig(path_enum_limit=3), tmp_path)
    read = next(s for s in many.offer(ToolRegistry(builtin_tools()).specs(), [])
                if s.name == "read_file")
    assert "enum" not in read.parameters["properties"]["path"]  # past the limit: a free string


def test_an_empty_workspace_offers_no_tool_that_needs_a_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    h = Harness(HarnessConfig(), empty)
    names = {s.name for s in h.offer(ToolRegistry(builtin_tools()).specs(), [])}
    assert not names & {"read_file", "edit_file", "grep"}
    assert {"list_dir", "write_file"} <= names
    # A stored tool output can still be read by its handle.
    names = {s.name for s in h.offer(ToolRegistry(builtin_tools()).specs(), ["@out1"])}
    assert "read_file" in names and "grep" not in names


def test_a_note_given_with_the_request_is_attached_and_counts_as_evidence(
        tmp_path: Path) -> None:
    h = Harness(HarnessConfig(), project(tmp_path))
    request = "Which port does the app listen on?"  # app/ is a folder here
    h.turn_started(request)
    asked = Message(role="user", content=request)
    note = Message(role="notice", content="Facts remembered:\n- The API listens on port 8443.")
    out = h.render([Message(role="system", content="sys"), note, asked], asked, 4096)
    assert [m.role for m in out] == ["system", "user"]
    body = out[1].content
    assert body.index("port 8443") < body.index(request) and body.endswith(request)
    assert h.review_answer("It listens on port 8443.", used_tools=False).action == "accept"
    # Without the note the same answer names a port nothing showed.
    h.turn_started(request)
    h.render([Message(role="system", content="sys"), asked], asked, 4096)
    assert h.review_answer("It listens on port 8443.", used_tools=True).action == "retry"


def test_arguments_are_validated_before_anything_runs(tmp_path: Path) -> None:
    h = Harness(HarnessConfig(), project(tmp_path))
    tools = ToolRegistry(builtin_tools())
    schema = tools.get("read_file").spec.parameters  # type: ignore[union-attr]
    assert h.review_call(ToolCall("1", "read_file", {"path": "notes.txt"}), schema) == ""
    assert "missing required argument 'path'" in h.review_call(
        ToolCall("1", "read_file", {}), schema)
    assert "must be string" in h.review_call(ToolCall("1", "read_file", {"path": 3}), schema)
    miss = h.review_call(ToolCall("1", "read_file", {"path": "config.py"}), schema)
    assert miss == "file not found: config.py. Did you mean: app/config.py?"
    # Ignored files exist on disk: reading one is not a "not found".
    assert h.review_call(ToolCall("1", "read_file", {"path": "build/out.txt"}), schema) == ""
    assert h.counters["invalid_args"] == 3


async def test_an_unread_file_is_not_overwritten(tmp_path: Path) -> None:
    session, _, events = session_with(
        tmp_path,
        ScriptedReply.call("write_file", path="notes.txt", content="done\n"),
        ScriptedReply.call("read_file", path="notes.txt"),
        ScriptedReply.call("write_file", path="notes.txt", content="buy milk\ndone\n"),
        "I appended done.", grounded_reads=False)
    await session.run_turn("Append a line with the word done to notes.txt")
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished[0].is_error and "have not read it" in finished[0].content
    assert not finished[2].is_error
    assert (session.options.workspace / "notes.txt").read_text() == "buy milk\ndone\n"
    assert session.harness is not None and session.harness.counters["refused_unread_writes"] == 1


async def test_an_unread_file_is_not_edited(tmp_path: Path) -> None:
    session, _, events = session_with(
        tmp_path,
        ScriptedReply.call("edit_file", path="app/models.py", old_text="Item", new_text="Product"),
        ScriptedReply.call("read_file", path="app/models.py"),
        ScriptedReply.call("edit_file", path="app/models.py", old_text="Item", new_text="Product"),
        "Renamed.", grounded_reads=False)
    await session.run_turn("Rename the class to Product")
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert finished[0].is_error and "have not read app/models.py" in finished[0].content
    assert not finished[2].is_error
    assert "class Product" in (session.options.workspace / "app/models.py").read_text()


def test_syntax_check_after_writes(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    (tmp_path / "bad.py").write_text("def f(:\n")
    (tmp_path / "bad.json").write_text("{1}")
    assert syntax_note(tmp_path / "ok.py", "ok.py") == "Syntax check: ok.py OK."
    assert syntax_note(tmp_path / "bad.py", "bad.py").startswith("Syntax check: bad.py line 1")
    assert "not valid JSON" in syntax_note(tmp_path / "bad.json", "bad.json")
    assert syntax_note(tmp_path / "x.txt", "x.txt") == ""


async def test_a_write_result_carries_the_syntax_check(tmp_path: Path) -> None:
    session, _, events = session_with(
        tmp_path, ScriptedReply.call("write_file", path="hello.py", content="print('hi'\n"),
        ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n"), "Done.")
    await session.run_turn("Create hello.py that prints hi")
    broken, fixed = [e for e in events if isinstance(e, ToolCallFinished)]
    assert broken.is_error and "Syntax check: hello.py line 1" in broken.content
    assert not fixed.is_error and fixed.content.endswith("Syntax check: hello.py OK.")


async def test_a_write_that_drops_most_of_a_file_is_stopped_once(tmp_path: Path) -> None:
    ws_file = "app/models.py"
    short = ScriptedReply.call("write_file", path=ws_file, content="class Item:\n    x = 1\n")
    session, _, events = session_with(tmp_path, short, short, "Done.")
    await session.run_turn("Change app/models.py so that Item has no methods")
    first, second = [e for e in events if isinstance(e, ToolCallFinished) and not e.name.startswith(
        "read")]
    assert first.is_error and "would delete 3 of the 4 non-blank lines" in first.content
    assert "send the same write_file again" in first.content
    assert not second.is_error  # asked twice: the user's request stands


# --- loops end with an explanation ---------------------------------------------------------------

async def test_a_refused_call_is_not_retried_more_than_once(tmp_path: Path) -> None:
    call = ScriptedReply.call("exec", command="rm -rf /")
    session, provider, _ = session_with(tmp_path, call,
                                        ScriptedReply.call("exec", command="rm -rf /"),
                                        ScriptedReply.call("exec", command="rm -rf /"), "x")
    out = await session.run_turn("clean everything")
    assert out.text.startswith("I stopped: `exec rm -rf /` was refused (the command is on the "
                               "exec deny-list")
    assert len(provider.requests) == 2


async def test_the_same_failing_call_ends_the_turn_with_its_error(tmp_path: Path) -> None:
    bad = {"path": "notes.txt", "old_text": "buy bread", "new_text": "buy rice"}
    session, provider, _ = session_with(tmp_path, ScriptedReply.call("edit_file", **bad),
                                        ScriptedReply.call("edit_file", **bad),
                                        ScriptedReply.call("edit_file", **bad), "x")
    out = await session.run_turn("change bread to rice in notes.txt")
    assert out.text.startswith("I stopped: `edit_file notes.txt` failed again with the same error "
                               "(Error: old_text was not found in notes.txt.")
    assert len(provider.requests) == 2


async def test_a_broken_write_repeated_ends_the_turn_naming_the_syntax_error(
        tmp_path: Path) -> None:
    bad = ScriptedReply.call("write_file", path="hello.py", content="hello world\n")
    session, provider, events = session_with(tmp_path, bad, bad, bad, "x")
    out = await session.run_turn("Create hello.py that prints hello world")
    first = next(e for e in events if isinstance(e, ToolCallFinished))
    assert "line 1 (`hello world`)" in first.content  # the model sees the line it got wrong
    refused = [e for e in events if isinstance(e, ToolCallFinished)][1]
    # The identical repeat is not written again: the model is asked for other content, with the
    # error quoted, and gets one more step.
    assert refused.is_error and "repeats the one that left hello.py broken" in refused.content
    assert "`hello world`" in refused.content and "Python source code" in refused.content
    assert out.text.startswith("I stopped: `write_file hello.py` failed again with the same "
                               "error (")
    assert "(Syntax check: hello.py line 1 (`hello world`): invalid syntax" in out.text
    assert len(provider.requests) == 3
    # The step after the refusal is sampled (a greedy model would send the same write), once.
    assert [r.temperature for r in provider.requests] == [None, None, 0.7]


async def test_a_corrected_write_after_a_refused_repeat_lands(tmp_path: Path) -> None:
    bad = ScriptedReply.call("write_file", path="hello.py", content="hello world\n")
    good = ScriptedReply.call("write_file", path="hello.py", content="print('hello world')\n")
    session, provider, events = session_with(tmp_path, bad, bad, good, "Done.")
    out = await session.run_turn("Create hello.py that prints hello world")
    assert out.text == "Done."
    assert (session.options.workspace / "hello.py").read_text() == "print('hello world')\n"
    results = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [r.is_error for r in results] == [True, True, False]
    assert "Syntax check: hello.py OK." in results[-1].content
    assert session.harness is not None and session.harness.counters["repeated_broken_writes"] == 1
    assert [r.temperature for r in provider.requests] == [None, None, 0.7, None]


async def test_code_shown_for_a_file_instead_of_written_gets_one_retry(tmp_path: Path) -> None:
    shown = ("Here is the corrected `app/models.py`:\n```python\ndef total(items):\n"
             "    return sum(items)\n```\nThe bug in app/models.py has been fixed.")
    write = ScriptedReply.call("write_file", path="app/models.py",
                               content="class Item:\n    pass\n\n\ndef total(items):\n"
                                       "    return sum(items)\n")
    session, provider, events = session_with(tmp_path, shown, write, "Fixed total().",
                                             whole_file_writes=False)
    out = await session.run_turn("Fix the bug in total() in app/models.py.")
    assert out.text == "Fixed total()."
    assert "return sum(items)" in (session.options.workspace / "app/models.py").read_text()
    retry = provider.requests[1]
    assert retry.messages[-1].content.startswith(
        "app/models.py is unchanged: the code in your reply was not written to it.")
    assert retry.callable == ("write_file",)
    assert any(isinstance(e, ReplyRestarted) for e in events)
    assert session.harness is not None and session.harness.counters["unwritten_retries"] == 1
    # A question is answered with code; a quote of the file as it is shows nothing new.
    how = "Use this:\n```python\ndef total(items):\n    return sum(items)\n```"
    session, _, _ = session_with(tmp_path / "q", how)
    assert (await session.run_turn("How would I fix total() in app/models.py?")).text == how
    quote = "`app/models.py` has:\n```python\ndef total(items):\n    return 0\n```"
    session, _, _ = session_with(tmp_path / "r", quote)
    assert (await session.run_turn("Show me total() in app/models.py.")).text == quote
    # A command that names the file is not its content.
    command = "Run it with `app/models.py`:\n```sh\npython app/models.py\n```"
    session, _, _ = session_with(tmp_path / "c", command)
    assert (await session.run_turn("Run app/models.py once.")).text == command


# --- voting --------------------------------------------------------------------------------------

def _requests_for(provider: ScriptedProvider) -> list[ProviderRequest]:
    return provider.requests


async def test_voting_takes_the_call_ahead_by_k_and_shows_the_tally(tmp_path: Path) -> None:
    read = ScriptedReply.call("read_file", path="notes.txt")
    wrong = ScriptedReply.call("read_file", path="data/rows.csv")
    session, provider, events = session_with(
        tmp_path, wrong, read, read, read, "It says buy milk.", "It says buy milk.",
        vote_k=2, vote_max_samples=5, related_reads=0)
    object.__setattr__(provider, "capabilities",
                       provider.capabilities.__class__(**{**provider.capabilities.__dict__,
                                                          "small": True}))
    out = await session.run_turn("What is in my shopping note?")
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.arguments["path"], e.votes) for e in started] == [("notes.txt", "3/4")]
    temps = [r.temperature for r in _requests_for(provider)]
    assert temps[0] is None and all(t == 0.7 for t in temps[1:4])  # greedy first, then sampled
    assert out.text == "It says buy milk."


def test_canonical_forms_ignore_payload_and_phrasing() -> None:
    from app.core.harness.vote import Sample, canonical

    a = Sample(calls=[ToolCall("1", "write_file", {"path": "./x.py", "content": "a" * 200})])
    b = Sample(calls=[ToolCall("2", "write_file", {"path": "x.py", "content": "b" * 200})])
    assert canonical(a, "") == canonical(b, "")
    assert canonical(Sample(text="There are 6 rows."), "how many rows?") == canonical(
        Sample(text="6"), "how many rows?")
    assert canonical(Sample(text=""), "q") is None  # red flag: not counted


def test_a_new_or_resumed_session_in_the_app_keeps_the_harness(tmp_path: Path) -> None:
    from app.core.settings.config import Config
    from app.runtime.factory import SessionFactory

    ws = project(tmp_path / "ws")
    factory = SessionFactory(Config(), ScriptedProvider(), options=SessionOptions(workspace=ws),
                             sessions_dir=tmp_path / "sessions", tools=builtin_tools,
                             harness=HarnessConfig(vote_k=3))
    session = factory.new().session
    assert session.harness is not None and session.harness.config.vote_k == 3
    fresh = factory.new().session
    assert fresh.harness is not None and fresh.harness is not session.harness
    assert fresh.harness.config.vote_k == 3
    assert session.store is not None
    resumed = factory.resume(session.store.path).session
    assert resumed.harness is not None and resumed.harness.config.vote_k == 3


def test_config_section_parses() -> None:
    from app.core.settings.config import parse_config

    cfg = parse_config("[harness]\nvote_k = 3\ngrounded_reads = false\n")
    assert cfg.harness.vote_k == 3 and not cfg.harness.grounded_reads
    assert json.dumps(cfg.harness.__dict__)  # plain values only


def test_tool_result_type_is_the_registry_one() -> None:
    assert ToolResult("x").content == "x"


@pytest.mark.parametrize("flag", ["repo_map", "grounded_reads", "constrain_paths"])
async def test_each_mechanism_can_be_turned_off(tmp_path: Path, flag: str) -> None:
    session, provider, events = session_with(tmp_path, "ok", **{flag: False})
    await session.run_turn("What is TIMEOUT in config.py?")
    seen = provider.requests[0].messages[-1].content
    grounded = [e for e in events if isinstance(e, ToolCallStarted) and e.grounded]
    if flag == "repo_map":
        assert "app/config.py (2 lines)" not in seen and grounded
    elif flag == "grounded_reads":
        assert not grounded and "app/config.py (2 lines)" in seen
    else:
        read = next(t for t in provider.requests[0].tools if t.name == "read_file")
        assert "enum" not in read.parameters["properties"]["path"]
