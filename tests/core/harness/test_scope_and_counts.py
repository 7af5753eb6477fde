"""The harness on a scripted provider: the tools a small model is offered follow what the request
names; a table's read states its data rows; a broken write repeated is asked for again."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session
from app.core.harness.calls import code_names, is_question
from app.core.harness.checks import checklist_note, hits_note, listing_note
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness, table_note
from app.core.providers.base import Capabilities
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from tests.core.harness.scripted import scripted_session

CORE = ("read_file", "list_dir", "grep", "write_file", "edit_file", "exec", "python")
READING = {"read_file", "list_dir", "grep"}


def workspace(root: Path) -> Path:
    files = {"shop/config.py": "TIMEOUT = 37\n", "shop/models.py": "def total(items):\n    pass\n",
             "stock.csv": "name,qty\napple,10\npear,12\nfig,7\n\n", "notes.txt": "milk\n"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def session_for(tmp_path: Path, *replies: ScriptedReply | str, small: bool = True,
                **cfg: object) -> tuple[Session, ScriptedProvider, list[Event]]:
    return scripted_session(workspace(tmp_path / "ws"), *replies, capabilities=Capabilities(
        core_tools=CORE if small else (), small=small), **cfg)


def offered(provider: ScriptedProvider, step: int = 0) -> set[str]:
    return {t.name for t in provider.requests[step].tools}


def test_what_a_request_names_decides_whether_it_can_change_or_run(tmp_path: Path) -> None:
    harness = Harness(HarnessConfig(), workspace(tmp_path))
    for request in ("What is 17*3?", "Translate 'thank you' into Spanish.",
                    "Who maintains this project?", "Is 7 a prime number? Answer yes or no."):
        assert not harness.names_target(request), request
    for request in ("Create hello.py that prints hi", "Add a .gitignore for caches",
                    "How many lines does notes.txt have?",  # an existing file
                    "What does total return?",  # a symbol the workspace defines
                    "List what is in the shop folder",  # an existing folder
                    "Run `make test` for me"):  # code
        assert harness.names_target(request), request


async def test_a_request_that_names_nothing_gets_only_the_tools_that_read(
        tmp_path: Path) -> None:
    session, provider, _ = session_for(tmp_path, "Apples.")
    out = await session.run_turn("Which fruit is most in stock?")  # stock.csv is about it
    assert out.text == "Apples."
    assert offered(provider) == READING


async def test_a_request_about_nothing_in_the_workspace_gets_no_tools(tmp_path: Path) -> None:
    session, provider, _ = session_for(tmp_path, "51.", "Paris.", "The capital is 9.")
    assert (await session.run_turn("What is 17*3?")).text == "51."
    assert (await session.run_turn("What is the capital of France?")).text == "Paris."
    assert offered(provider, 0) == offered(provider, 1) == set()
    assert provider.requests[0].answer_only  # text only: no call can be written as the answer
    harness = session.harness
    assert harness is not None and not harness.about_workspace("Translate 'thank you'.")
    assert harness.about_workspace("How much milk do I need?")  # a word of notes.txt
    assert harness.about_workspace("How many notes do I have?")  # notes.txt, plural
    assert harness.about_workspace("Which files are in this folder?")  # the workspace itself
    # An unread number in a general answer is not checked (nothing here could support it).
    assert (await session.run_turn("What is the capital of Peru?")).text == "The capital is 9."


async def test_a_request_that_names_a_file_gets_the_whole_core(tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="hello.py", content="print('hi')\n")
    session, provider, _ = session_for(tmp_path, write, "Created.", "Half a litre.",
                                       whole_file_writes=False)
    await session.run_turn("Create hello.py that prints hi")
    await session.run_turn("How much milk is left?")
    # The new script holds the code, and runs once it exists.
    assert offered(provider, 0) == set(CORE) - {"python", "exec"}
    assert offered(provider, 2) == READING  # decided per request, not once per session


async def test_a_question_is_answered_not_acted_on(tmp_path: Path) -> None:
    session, provider, _ = session_for(tmp_path, "`total`.", "Done.", "Added.")
    await session.run_turn("Which function adds up the items in the shop, `total`?")
    await session.run_turn("Can you add a subtract function to shop/models.py?")  # a request
    await session.run_turn("Add 'eggs' to notes.txt. Is that fine?")  # starts as an order
    assert offered(provider, 0) == READING | {"exec"}  # code in backticks may be run
    assert offered(provider, 1) == offered(provider, 2) == set(CORE) - {"python"}
    session, provider, _ = session_for(tmp_path / "b", "It prints nothing.",
                                       requested_runs=False)
    await session.run_turn("What is the output of python shop/models.py?")  # a command: it runs
    assert offered(provider, 0) == READING | {"exec"}
    # With requested runs on, the harness ran it first: the answer is in the output.
    session, provider, _ = session_for(tmp_path / "b2", "It prints nothing.")
    await session.run_turn("What is the output of python shop/models.py?")
    assert offered(provider, 0) == set()
    session, provider, _ = session_for(tmp_path / "c", "`total`.")
    await session.run_turn("Which function in shop/models.py adds up the items?")
    assert offered(provider, 0) == READING  # a script named, no command to run


def test_questions_and_code_names_are_told_by_their_form() -> None:
    assert is_question("Which function in calc.py divides two numbers?")
    assert is_question("how many rows does stock.csv have?")
    assert is_question("According to journal.txt, how many kilometres did I run?")
    assert is_question("In config.py, what is TIMEOUT?")
    for request in ("Can you add a line to notes.txt?", "Fix calc.py.", "What? Add it.",
                    "Add eggs to notes.txt, ok?", "Add eggs to notes.txt, is that fine?",
                    "In notes.txt, add eggs?"):
        assert not is_question(request), request
    assert code_names("What is API_KEY in config.py? And maxRetries, or `other_name`?") == [
        "API_KEY", "maxRetries"]
    assert code_names("Where is ItemStore defined in shop/models.py.") == ["ItemStore"]


async def test_a_question_about_a_name_no_file_has_is_answered_without_the_model(
        tmp_path: Path) -> None:
    session, provider, events = session_for(tmp_path, "API_KEY is 37.")
    out = await session.run_turn("What is the value of API_KEY in shop/config.py?")
    assert provider.requests == []  # the model was not asked
    assert out.text.startswith("API_KEY does not occur in shop/config.py or in any other file")
    read = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "read_file"]
    assert read and "TIMEOUT = 37" in read[0].content  # the user sees what was looked at
    # A name that is there, or a question that names no file, goes to the model as usual.
    for request in ("What is the value of TIMEOUT in shop/config.py?", "What is API_KEY?"):
        session, provider, _ = session_for(tmp_path / str(len(request)), "It is 37.")
        assert (await session.run_turn(request)).text == "It is 37."
        assert len(provider.requests) == 1


async def test_a_tool_already_used_this_turn_stays_offered(tmp_path: Path) -> None:
    session, provider, _ = session_for(
        tmp_path, ScriptedReply.call("python", code="print(17*3)"), "51.")
    await session.run_turn("What is 17*3?")
    # The model called python although it was not offered (a repaired reply): the call ran,
    # and the next step offers it, so the prompt names what the turn shows.
    assert offered(provider, 1) == {"python"}  # 17*3 is about nothing here: no other tool


async def test_scope_is_off_for_large_models_and_by_config(tmp_path: Path) -> None:
    big, provider, _ = session_for(tmp_path / "a", "51.", small=False)
    await big.run_turn("What is 17*3?")
    assert {"write_file", "exec", "python"} <= offered(provider)
    off, provider, _ = session_for(tmp_path / "b", "51.", scope_tools=False)
    await off.run_turn("What is 17*3?")
    assert offered(provider) == set(CORE)


def test_a_table_read_states_its_data_rows() -> None:
    assert table_note("stock.csv", "name,qty\napple,10\npear,12\n\nfig,7\n") == (
        "[stock.csv: a header line and 3 data rows]")
    # A quoted field over two lines is one row; tabs for .tsv.
    assert table_note("a.csv", 'id,text\n1,"two\nlines"\n') == "[a.csv: a header line and 1 data row]"
    assert table_note("b.tsv", "a\tb\n1\t2\n3\t4\n") == "[b.tsv: a header line and 2 data rows]"
    assert table_note("notes.txt", "a,b\n1,2\n") == ""
    assert table_note("big.csv", "a\n1\n[read_file stopped after 10 of 99 bytes; use lines]") == ""


def test_a_task_list_states_its_open_and_done_items() -> None:
    text = "# To do\n\n- [x] flights\n- [ ] passport\n* [X] rent\n1. [ ] gift\n- plain line\n"
    assert checklist_note("todo.md", text) == (
        "[todo.md: a task list of 4 items, 2 open ([ ]) and 2 done ([x])]")
    assert checklist_note("notes.md", "# Notes\n- milk\n") == ""
    assert checklist_note("a.py", "# - [ ] not a list\n") == ""


def test_a_listing_states_what_it_holds() -> None:
    listing = "sub/\nvendor/\na.py\nb.py\nREADME.md\nMakefile"
    assert listing_note("shop", listing) == (
        "[shop: 4 files (2 .py, 1 .md) and 2 folders]")
    assert listing_note("", "only.txt") == "[.: 1 file (1 .txt)]"
    assert listing_note("x", "(empty directory)") == ""
    assert listing_note("x", "a.py\n… and 300 more entries") == ""  # capped: not counted


async def test_a_counted_answer_can_quote_the_count_of_a_listing(tmp_path: Path) -> None:
    session, _provider, events = session_for(
        tmp_path, ScriptedReply.call("list_dir", path="shop"), "There are 2 .py files.")
    out = await session.run_turn("How many .py files are in the shop folder?")
    listed = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "list_dir"]
    assert listed and listed[-1].content.endswith("[shop: 2 files (2 .py)]")
    assert out.text == "There are 2 .py files."  # supported by the count, not withdrawn


async def test_a_counted_answer_can_quote_the_row_count_of_the_read(tmp_path: Path) -> None:
    session, provider, events = session_for(tmp_path, "There are 3 data rows.")
    out = await session.run_turn("How many data rows does stock.csv have, without the header?")
    read = next(e for e in events if isinstance(e, ToolCallFinished))
    assert read.content.endswith("[stock.csv: a header line and 3 data rows]")
    assert "a header line and 3 data rows" in provider.requests[0].messages[-1].content
    # 3 appears nowhere in the file: only the computed count supports the answer.
    assert out.text == "There are 3 data rows." and len(provider.requests) == 1


async def test_a_partial_read_of_a_table_states_no_count(tmp_path: Path) -> None:
    session, _, events = session_for(
        tmp_path, ScriptedReply.call("read_file", path="stock.csv", lines="1:2"), "ok",
        grounded_reads=False)
    await session.run_turn("Show the top of the stock table")
    read = next(e for e in events if isinstance(e, ToolCallFinished))
    assert "data row" not in read.content


async def test_an_echoed_request_is_asked_again_with_the_computed_count(tmp_path: Path) -> None:
    request = "How many data rows does stock.csv have, without the header?"
    session, provider, _ = session_for(tmp_path, request, "There are 3 data rows.",
                                       compute_programs=False)
    out = await session.run_turn(request)
    retry = provider.requests[1].messages[-1].content
    assert retry.startswith("You repeated my request instead of answering it.")
    assert retry.endswith("Computed from the files read: [stock.csv: a header line and 3 data rows]")
    assert out.text == "There are 3 data rows."


async def test_a_guessed_number_is_retried_with_python_even_where_scope_left_it_out(
        tmp_path: Path) -> None:
    session, provider, _ = session_for(
        tmp_path, ScriptedReply.call("read_file", path="notes.txt"), "I have 4 notes.",
        ScriptedReply.call("python", code="print(len(open('notes.txt').readlines()))"),
        "I have 1 note.", compute_programs=False)
    out = await session.run_turn("How many notes do I have?")
    assert "python" not in offered(provider, 0)
    retry = provider.requests[2]
    assert "python" in {t.name for t in retry.tools} and retry.callable == ("python",)
    assert out.text == "I have 1 note."


async def test_a_command_that_fails_again_is_answered_from_its_output(tmp_path: Path) -> None:
    command = "python -c \"print('FAILED test_mul'); raise SystemExit(1)\""
    run = ScriptedReply.call("exec", command=command)
    session, provider, events = session_for(tmp_path, run, run, "test_mul fails.")
    out = await session.run_turn("Run the checks in shop/models.py and tell me which one fails.")
    assert out.text == "test_mul fails."  # not "I stopped: … failed again"
    finished = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "exec"]
    assert len(finished) == 2 and all("FAILED test_mul" in e.content for e in finished)
    assert provider.requests[-1].answer_only  # the step after the repeat answers


async def test_a_write_to_a_file_the_request_does_not_name_is_stopped_when_it_names_a_new_one(
        tmp_path: Path) -> None:
    wrong = ScriptedReply.call("write_file", path="shop/config.py", content="indent_size = 4\n")
    right = ScriptedReply.call("write_file", path=".editorconfig", content="indent_size = 4\n")
    session, _provider, events = session_for(tmp_path, ScriptedReply.call(
        "read_file", path="shop/config.py"), wrong, right, "Created.", whole_file_writes=False)
    await session.run_turn("Add a .editorconfig file that sets indent_size = 4.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and "the request asks for .editorconfig" in writes[0].content
    ws = tmp_path / "ws"
    assert (ws / "shop/config.py").read_text() == "TIMEOUT = 37\n"  # untouched
    assert (ws / ".editorconfig").read_text() == "indent_size = 4\n"


async def test_inline_python_is_left_to_the_program_step(tmp_path: Path) -> None:
    ask = "Run shop/models.py and tell me what it prints."
    session, provider, _ = session_for(tmp_path / "a", "Nothing.")
    await session.run_turn(ask)
    assert "python" not in offered(provider) and "exec" in offered(provider)
    session, provider, _ = session_for(tmp_path / "b", "Nothing.", compute_programs=False)
    await session.run_turn(ask)
    assert "python" in offered(provider)


async def test_a_script_to_create_is_written_before_anything_runs(tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="primes.py", content="print(2)\n")
    run = ScriptedReply.call("exec", command="python primes.py")
    session, provider, _ = session_for(tmp_path, write, run, "It printed 2.",
                                       whole_file_writes=False)
    out = await session.run_turn("Create primes.py that prints the primes below 20, then run it.")
    assert "exec" not in offered(provider, 0) and "write_file" in offered(provider, 0)
    assert "exec" in offered(provider, 1)  # primes.py exists now
    assert out.text == "It printed 2."
    # Output written to a new text file comes after a run: that run stays offered.
    session, provider, _ = session_for(tmp_path / "b", "Done.")
    await session.run_turn("Run shop/models.py and save its output to out.txt.")
    assert "exec" in offered(provider, 0)


async def test_a_small_models_write_goes_to_a_file_the_request_names(tmp_path: Path) -> None:
    wrong = ScriptedReply.call("write_file", path="shop/config.py", content="TIMEOUT = 37\nx\n")
    session, _provider, events = session_for(
        tmp_path, ScriptedReply.call("read_file", path="shop/config.py"), wrong, "Done.",
        whole_file_writes=False)
    await session.run_turn("Look up TIMEOUT in the config and add a line with it to notes.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and "the request names notes.txt and not shop/config.py" in (
        writes[0].content)
    assert (tmp_path / "ws/shop/config.py").read_text() == "TIMEOUT = 37\n"
    # A big model is not held to it (a refactor changes the callers of what it names too).
    session, _provider, events = session_for(
        tmp_path / "big", ScriptedReply.call("read_file", path="shop/config.py"), wrong, "Done.",
        small=False)
    await session.run_turn("Look up TIMEOUT in the config and add a line with it to notes.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert not writes[0].is_error


async def test_a_value_nothing_read_shows_is_not_written_into_a_text_file(tmp_path: Path) -> None:
    guess = ScriptedReply.call("write_file", path="timeout.txt", content="TIMEOUT: 38\n")
    read = ScriptedReply.call("write_file", path="timeout.txt", content="TIMEOUT: 37\n")
    session, _provider, events = session_for(tmp_path, guess, read, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Write the TIMEOUT of shop/config.py into timeout.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and "the content states 38, which nothing read" in writes[0].content
    assert (tmp_path / "ws/timeout.txt").read_text() == "TIMEOUT: 37\n"
    # A count written by guess is refused with the count the harness made of the table read.
    guess = ScriptedReply.call("write_file", path="count.txt", content="5\n")
    right = ScriptedReply.call("write_file", path="count.txt", content="3\n")
    session, _provider, events = session_for(tmp_path / "c", guess, right, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Count the rows in stock.csv and write the number into count.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and "Counted from the files read: [stock.csv: a header line and " \
        "3 data rows" in writes[0].content
    assert (tmp_path / "c/ws/count.txt").read_text() == "3\n"
    # Code keeps its own literals; a number the request gives may be written anywhere.
    code = ScriptedReply.call("write_file", path="limit.py", content="LIMIT = 99\n")
    text = ScriptedReply.call("write_file", path="n.txt", content="5\n")
    session, _provider, events = session_for(tmp_path / "b", code, text, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Create limit.py with a limit, and n.txt holding the number 5.")
    assert not any(e.is_error for e in events if isinstance(e, ToolCallFinished))


async def test_an_answer_before_the_asked_file_exists_is_sent_back_to_write_it(
        tmp_path: Path) -> None:
    write = ScriptedReply.call("write_file", path="primes.py", content="print(2)\n")
    session, provider, _ = session_for(tmp_path, "The primes are 2, 3, 5.", write, "Created.",
                                       whole_file_writes=False)
    out = await session.run_turn("Write a script primes.py that prints the primes below 6.")
    retry = provider.requests[1]
    assert retry.messages[-1].content.startswith("primes.py does not exist yet. If my request")
    assert retry.callable == ("write_file",)
    assert (tmp_path / "ws/primes.py").read_text() == "print(2)\n" and out.text == "Created."
    # Run a module, ask a question: nothing to create.
    session, provider, _ = session_for(tmp_path / "b", "The shop models ran.")
    assert (await session.run_turn("Run python -m shop.models for me.")).text == (
        "The shop models ran.")
    assert len(provider.requests) == 1
    harness = session.harness
    assert harness is not None
    harness.turn_started("Does hello.py exist?")
    harness.turn.scoped = True
    assert harness._pending_files() == []


async def test_a_write_to_the_wrong_file_goes_to_the_one_file_the_request_names(
        tmp_path: Path) -> None:
    wrong = ScriptedReply.call("edit_file", path="shop/config.py", old_text="37", new_text="4")
    session, provider, events = session_for(
        tmp_path, ScriptedReply.call("read_file", path="shop/config.py"), wrong,
        "[*]\nindent_size = 4\n```", "Created.")
    await session.run_turn("Add a .editorconfig file that sets indent_size = 4.")
    assert "The file .editorconfig does not exist yet." in provider.requests[2].messages[-1].content
    assert (tmp_path / "ws/.editorconfig").read_text() == "[*]\nindent_size = 4\n"
    assert (tmp_path / "ws/shop/config.py").read_text() == "TIMEOUT = 37\n"
    started = [e for e in events if isinstance(e, ToolCallStarted) and e.name == "write_file"]
    assert started[0].arguments["path"] == ".editorconfig"  # what the user sees and approves
    # ... and what the history says was done (the answer's "I created …" is built from it).
    written = [c for m in session.history for c in m.tool_calls if c.name == "write_file"]
    assert [c.arguments["path"] for c in written] == [".editorconfig"]
    assert written[0].arguments["content"] == "[*]\nindent_size = 4\n"


async def test_a_write_to_the_wrong_file_goes_to_the_one_file_the_request_changes(
        tmp_path: Path) -> None:
    wrong = ScriptedReply.call("write_file", path="shop/config.py", content="x")
    session, provider, _events = session_for(
        tmp_path, ScriptedReply.call("read_file", path="shop/config.py"), wrong,
        "milk\nTIMEOUT: 37\n```", "Added.")
    await session.run_turn("Look up TIMEOUT in the config and add a line with it to notes.txt.")
    assert "The file notes.txt contains:" in provider.requests[2].messages[-1].content
    assert (tmp_path / "ws/notes.txt").read_text() == "milk\nTIMEOUT: 37\n"
    assert (tmp_path / "ws/shop/config.py").read_text() == "TIMEOUT = 37\n"


async def test_a_write_that_changes_lines_the_request_does_not_quote_is_refused(
        tmp_path: Path) -> None:
    wrong = ScriptedReply.call("write_file", path="stock.csv",
                               content="name,qty\napple,7\npear,12\nfig,7\n")
    right = ScriptedReply.call("write_file", path="stock.csv",
                               content="name,qty\napple,10\npear,13\nfig,7\n")
    session, _provider, events = session_for(tmp_path, wrong, right, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Change 'pear,12' to 'pear,13' in stock.csv.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and ("the request is about the line 'pear,12', but this write "
                                   "also changes 'apple,10'") in writes[0].content
    assert not writes[1].is_error
    assert (tmp_path / "ws/stock.csv").read_text() == "name,qty\napple,10\npear,13\nfig,7\n"


async def test_a_write_that_changes_the_quoted_line_and_others_changes_that_line_only(
        tmp_path: Path) -> None:
    both = ScriptedReply.call("write_file", path="stock.csv",
                              content="name,qty\napple,7\npear,13\nfig,7\n")
    session, _provider, events = session_for(tmp_path, both, "Done.", whole_file_writes=False)
    await session.run_turn("Change 'pear,12' to 'pear,13' in stock.csv.")
    # Every other line as it was, the blank line at the end included.
    assert (tmp_path / "ws/stock.csv").read_text() == "name,qty\napple,10\npear,13\nfig,7\n\n"
    (write,) = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert not write.is_error and ("Only the line the request names was changed ('pear,12' → "
                                   "'pear,13'); the content also changed 1 other line(s)"
                                   ) in write.content
    started = [e for e in events if isinstance(e, ToolCallStarted) and e.name == "write_file"]
    # What the user approves and the history keeps is the write that ran.
    assert started[0].arguments["content"] == "name,qty\napple,10\npear,13\nfig,7\n\n"
    written = [c for m in session.history for c in m.tool_calls if c.name == "write_file"]
    assert written[0].arguments["content"] == "name,qty\napple,10\npear,13\nfig,7\n\n"


async def test_a_write_that_leaves_the_file_to_change_as_it_was_is_a_failed_step(
        tmp_path: Path) -> None:
    same = ScriptedReply.call("write_file", path="notes.txt", content="milk\n")
    added = ScriptedReply.call("write_file", path="notes.txt", content="milk\neggs\n")
    session, _provider, events = session_for(tmp_path, same, added, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Add a line with eggs at the end of notes.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and writes[0].content.startswith(
        "Nothing changed: notes.txt already had exactly this content")
    assert not writes[1].is_error and (tmp_path / "ws/notes.txt").read_text() == "milk\neggs\n"


def test_grep_hits_with_one_number_each_state_their_total() -> None:
    hits = "journal.txt:1: Mon: ran 5 km along the canal.\njournal.txt:4: Thu: ran 8 km."
    assert hits_note(hits) == "[the 2 matching lines hold one number each (5, 8); together 13]"
    assert hits_note("a.csv:2: apple,2.5\na.csv:3: pear,1.25") == (
        "[the 2 matching lines hold one number each (2.5, 1.25); together 3.75]")
    # A time, a version or a second number on a line: no sum to offer.
    assert hits_note("j.txt:3: dentist at 14:30\nj.txt:4: ran 8 km") == ""
    assert hits_note("p.toml:3: version = 0.4.2\np.toml:4: port 80") == ""
    assert hits_note("j.txt:1: ran 5 km in 30 min\nj.txt:4: ran 8 km") == ""
    assert hits_note("j.txt:1: ran 5 km") == ""  # one line is no total


def journal_grep(tmp_path: Path, *answers: str) -> tuple[Session, ScriptedProvider, list[Event]]:
    """A session whose model greps journal.txt for "ran" (5 km, 8 km), then says ``answers``."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "journal.txt").write_text("Mon: ran 5 km.\nWed: dentist at 14:30.\nThu: ran 8 km.\n")
    return scripted_session(ws, ScriptedReply.call("grep", pattern="ran", path="journal.txt"),
                            *answers, compute_programs=False)


async def test_an_answer_quoting_the_total_of_grep_hits_is_supported(tmp_path: Path) -> None:
    session, provider, _ = journal_grep(tmp_path, "You ran 13 km in total.")
    out = await session.run_turn("How many kilometres did I run in total, per journal.txt?")
    assert out.text == "You ran 13 km in total." and len(provider.requests) == 2
    assert "together 13]" in provider.requests[1].messages[-1].content


async def test_a_grep_total_does_not_make_each_hits_number_a_fact_anywhere(tmp_path: Path) -> None:
    session, _provider, _ = journal_grep(tmp_path, "I ran 8 km on Saturday.",
                                         "I ran 8 km on Saturday.")
    out = await session.run_turn("What did I do on Saturday, according to journal.txt?")
    assert out.text.startswith("I could not find")


async def test_the_honest_answer_shows_the_lines_read_that_mention_the_question(
        tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "shop").mkdir(parents=True)
    (ws / "shop" / "config.py").write_text("CURRENCY = 'EUR'\n")
    (ws / "shop" / "report.py").write_text("from shop.config import CURRENCY\n")
    question = "Which module imports CURRENCY from the config?"
    session, _provider, _ = scripted_session(
        ws, ScriptedReply.call("grep", pattern="import CURRENCY"), question, question,
        compute_programs=False)
    out = await session.run_turn(question)
    assert out.text.startswith("I could not find a checked answer in the workspace")
    assert ("These lines I read mention it:\n"
            "    shop/report.py:1: from shop.config import CURRENCY\n") in out.text
    assert out.text.count("from shop.config import CURRENCY") == 1  # the hit, not its copy


async def test_a_write_that_copies_the_requests_placeholder_is_refused(tmp_path: Path) -> None:
    copied = ScriptedReply.call("write_file", path="notes.txt",
                                content="milk\nTimeout: <value>\n")
    filled = ScriptedReply.call("write_file", path="notes.txt", content="milk\nTimeout: 37\n")
    session, _provider, events = session_for(tmp_path, copied, filled, "Done.",
                                             whole_file_writes=False)
    await session.run_turn("Look up TIMEOUT in shop/config.py and add a line "
                           "'Timeout: <value>' to notes.txt.")
    writes = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert writes[0].is_error and writes[0].content.startswith(
        "Error: <value> in the request stands for a value to fill in, not text to copy.")
    assert not writes[1].is_error
    assert (tmp_path / "ws/notes.txt").read_text() == "milk\nTimeout: 37\n"


async def test_markup_and_unquoted_angle_brackets_are_not_placeholders(tmp_path: Path) -> None:
    page = ScriptedReply.call("write_file", path="page.html",
                              content="<html><title>Hi</title></html>\n")
    session, _provider, events = session_for(tmp_path, page, "Done.", whole_file_writes=False)
    await session.run_turn("Create page.html with a '<title>' of Hi.")
    (write,) = [e for e in events if isinstance(e, ToolCallFinished) and e.name == "write_file"]
    assert not write.is_error


async def test_a_table_row_is_its_own_context_not_the_header_above_it(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "contacts.csv").write_text("name,email,city\nPriya Raman,priya@example.org,Leeds\n"
                                     "Mia Santos,mia@example.org,York\n")
    session, provider, _ = scripted_session(
        ws, ScriptedReply.call("read_file", path="contacts.csv"),
        "Mia Santos's email address is priya@example.org.",  # the first row's, below "email"
        "Mia Santos's email address is mia@example.org.", compute_programs=False)
    out = await session.run_turn("What is Mia Santos's email address?")
    assert out.text == "Mia Santos's email address is mia@example.org."
    assert "priya@example.org" in provider.requests[2].messages[-1].content  # the retry names it
