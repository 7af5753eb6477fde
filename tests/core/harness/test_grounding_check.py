"""The grounding check: an answer's values must come from what the turn saw; code shown and
never written, counts the harness computed, and searches that found nothing."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import ReplyRestarted, TurnFinished
from app.core.harness.claims import Evidence, extract_claims
from app.core.providers.scripted import ScriptedReply
from tests.core.harness.test_harness import session_with

# --- the grounding check -------------------------------------------------------------------------

def test_claims_are_values_by_shape() -> None:
    claims = {c.text for c in extract_claims(
        "TIMEOUT in `config.py` is 10; the class is `Model`, see load_items and 18,500 EUR.")}
    assert claims == {"config.py", "Model", "load_items", "10", "18500"}
    names = {c.text for c in extract_claims("The release is owned by the United States.")}
    assert names == {"United States"}
    ev = Evidence(["TIMEOUT = 37", "class Item", "budget: 18,500"])
    assert [c.text for c in ev.unsupported("TIMEOUT is 37 and the budget 18500.")] == []
    assert [c.text for c in ev.unsupported("TIMEOUT is 10.")] == ["10"]


def test_a_name_is_supported_only_as_a_whole_word() -> None:
    calc = "def add(a, b):\n    return a + b\n\ndef test_add_two():\n    pass\n"
    ev = Evidence([calc], question="Which function in calc.py divides two numbers?")
    # "divides" in the request names no function `divide`; `test_add` is not `test_add_two`.
    assert [c.text for c in ev.unsupported("The function is `divide`.")] == ["divide"]
    assert [c.text for c in ev.unsupported("See test_add.")] == ["test_add"]
    assert ev.unsupported("It is `add`, tested by test_add_two.") == []
    assert ev.unsupported("`calc.py` holds it.") == []  # the request names the file
    # A one-letter name in code is a variable, not a claim.
    assert extract_claims("It takes a string `s` and returns `t`.") == []


async def test_general_code_is_checked_only_for_names_the_workspace_has(tmp_path: Path) -> None:
    code = ("```python\ndef reverse_string(s):\n    return s[::-1]\n```\nIt takes `s` "
            "and returns `note`.")
    session, _, _ = session_with(tmp_path, code)
    # No tool ran: `note` is no name of the workspace (it is part of notes.txt, not a name in
    # it), so nothing is checked.
    assert (await session.run_turn("Write a Python function that reverses a string.")).text == \
        code


def test_a_value_counts_only_where_the_question_topic_is() -> None:
    csv = "sku,name,qty\nA1,bolt,250\nD5,caster wheel,6\nE6,panel,18\n"
    ev = Evidence([csv], question="How many rows are in items.csv?")
    assert [c.text for c in ev.unsupported("There are 6 rows.")] == ["6"]  # 6 is a qty, not a count
    ev.add("6\n", "computed")  # a program counted them
    assert ev.unsupported("There are 6 rows.") == []
    conf = 'TIMEOUT = 37\nDB_PATH = "data/stock.db"\n'
    pw = Evidence([conf], question="What is the database password in config.py?")
    assert [c.text for c in pw.unsupported('The password is "data/stock.db".')] == [
        "data/stock.db"]
    timeout = Evidence([conf], question="What is the value of TIMEOUT in config.py?")
    assert timeout.unsupported("TIMEOUT is 37.") == []
    eggs = Evidence(["200 g flour\n2 eggs\n"], question="How many eggs do I need?")
    assert eggs.unsupported("You need 2 eggs.") == []
    assert [c.text for c in eggs.unsupported("Add 1 tbsp of sugar.")] == ["1"]
    # A path on the line does not make it about the topic: the count of all rows is not the
    # count of the items below 12.
    note = "[data/items.csv: a header line and 6 data rows]"
    low = Evidence([note], question="How many items in data/items.csv have a quantity below 12?")
    assert [c.text for c in low.unsupported("6 items are below 12.")] == ["6"]
    rows = Evidence([note], question="How many data rows are in data/items.csv?")
    assert rows.unsupported("There are 6 data rows.") == []


def test_a_name_counts_only_where_the_topic_is_and_a_file_name_is_no_topic() -> None:
    contacts = ("name,email,city\nPriya Raman,priya@example.org,Leeds\nTom Becker,t@x.org,York\n"
                "Omar Haddad,o@x.org,Bristol\nLena Fischer,lena@example.org,Cardiff\n")
    phone = Evidence(question="What is Lena Fischer's phone number in contacts.csv?")
    phone.add(contacts, source="contacts.csv")
    assert [c.text for c in phone.unsupported("Her phone number is Priya Raman.")] == [
        "Priya Raman"]
    email = Evidence(question="Which email address does Tom Becker have?")
    email.add(contacts, source="contacts.csv")
    assert email.unsupported("Tom Becker's is t@x.org, next to Priya Raman.") == []
    recipe = "Pancakes (serves 4)\n200 g flour\n2 eggs\n"
    sugar = Evidence(question="How much sugar goes into the pancakes?")
    sugar.add(recipe, source="recipes/pancakes.txt")
    assert [c.text for c in sugar.unsupported("Pancakes (serves 4)")] == ["4"]
    eggs = Evidence(question="How many eggs go into the pancakes?")
    eggs.add(recipe, source="recipes/pancakes.txt")
    assert eggs.unsupported("2 eggs.") == []
    # Only words of the file's name: every line of it is on topic.
    whole = Evidence(question="What is in the pancakes recipe?")
    whole.add(recipe, source="recipes/pancakes.txt")
    assert whole.unsupported("It serves 4.") == []


async def test_an_invented_value_gets_one_extractive_retry(tmp_path: Path) -> None:
    session, provider, events = session_with(tmp_path, "TIMEOUT is 10.", "TIMEOUT is 37.",
                                             compute_programs=False)
    out = await session.run_turn("What is TIMEOUT in app/config.py?")
    assert out.text == "TIMEOUT is 37."
    retry = provider.requests[1].messages[-1]
    assert retry.role == "user" and "'10'" in retry.content and "could not find" in retry.content
    assert any(isinstance(e, ReplyRestarted) for e in events)
    assert [m.content for m in session.history if m.role == "assistant" and m.content] == [
        "TIMEOUT is 37."]  # the rejected draft never entered history


async def test_a_guessed_count_is_retried_with_only_the_python_tool_callable(
        tmp_path: Path) -> None:
    session, provider, _ = session_with(
        tmp_path, "There are 4 rows.", ScriptedReply.call(
            "python", code="print(len(open('data/rows.csv').readlines()) - 1)"),
        "There are 3 rows.", compute_programs=False)
    session.tools.get("python")  # the python tool is part of the built-in set
    out = await session.run_turn("How many rows does data/rows.csv have after the header?")
    first, retry, answer = provider.requests
    assert retry.callable == ("python",) and retry.tools == first.tools  # same prompt prefix
    assert "call the python tool" in retry.messages[-1].content
    assert answer.callable == ()
    assert out.text == "There are 3 rows."  # 3 is what the program printed


async def test_a_count_that_contradicts_the_files_own_count_is_asked_again(
        tmp_path: Path) -> None:
    # It drops the header twice and prints 2.
    wrong = ScriptedReply.call(
        "python", code="rows = open('data/stock.csv').readlines()[1:]\nprint(len(rows[1:]))")
    session, provider, _ = session_with(tmp_path, wrong, "There are 2 data rows.",
                                        "There are 3 data rows.", compute_programs=False)
    (session.options.workspace / "data/stock.csv").write_text("sku,qty\nA1,250\nB2,6\nC3,18\n")
    out = await session.run_turn("How many data rows does data/stock.csv have?")
    assert out.text == "There are 3 data rows."
    retry = provider.requests[-1].messages[-1].content
    assert "[data/stock.csv: a header line and 3 data rows]" in retry
    assert session.harness is not None and session.harness.counters["contradicted_retries"] == 1
    # A note about something else is no contradiction: the rows are not the items below 12.
    session, _, _ = session_with(tmp_path / "b", wrong, "2 items.", compute_programs=False)
    (session.options.workspace / "data/stock.csv").write_text("sku,qty\nA1,250\nB2,6\nC3,18\n")
    out = await session.run_turn("How many items in data/stock.csv have a qty below 12?")
    assert out.text == "2 items."


async def test_a_value_about_what_the_turns_own_search_did_not_find_is_retried(
        tmp_path: Path) -> None:
    search = ScriptedReply.call("grep", pattern="numpy", path="pyproject.toml")
    session, provider, _ = session_with(
        tmp_path, search, "The numpy version required is 2.31.",
        "pyproject.toml does not mention numpy.", compute_programs=False)
    (session.options.workspace / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">=3.10"\ndependencies = ["requests>=2.31"]\n')
    out = await session.run_turn("Which numpy version does pyproject.toml require?")
    assert out.text == "pyproject.toml does not mention numpy."
    retry = provider.requests[-1].messages[-1].content
    assert retry.startswith("Your search for 'numpy' found nothing") and "'2.31'" in retry
    # A search that found nothing for a word the request does not use changes nothing.
    again = ScriptedReply.call("grep", pattern="requests", path="pyproject.toml")
    session, _, _ = session_with(tmp_path / "b", search, again,
                                 "The requests version required is 2.31.",
                                 compute_programs=False)
    (session.options.workspace / "pyproject.toml").write_text(
        '[project]\nrequires-python = ">=3.10"\ndependencies = ["requests>=2.31"]\n')
    out = await session.run_turn("Which requests version does pyproject.toml require?")
    assert out.text == "The requests version required is 2.31."
    # A word the harness's own note about a read holds is not absent: the checklist says "[ ]",
    # its note says "open".
    grep_open = ScriptedReply.call("grep", pattern="open", path="todo.md")
    session, _, _ = session_with(tmp_path / "c", grep_open, "4 tasks are still open.",
                                 compute_programs=False)
    (session.options.workspace / "todo.md").write_text(
        "# To do\n- [ ] a\n- [x] b\n- [ ] c\n- [ ] d\n- [ ] e\n")
    out = await session.run_turn("How many tasks in todo.md are still open?")
    assert out.text == "4 tasks are still open."


async def test_a_program_that_prints_its_guess_is_no_evidence(tmp_path: Path) -> None:
    session, _, _ = session_with(
        tmp_path, "There are 4 rows.", ScriptedReply.call("python", code="print(4)"),
        "There are 4 rows.", compute_programs=False)
    out = await session.run_turn("How many rows does data/rows.csv have after the header?")
    assert out.text.startswith("I could not find that")


async def test_a_second_unsupported_answer_becomes_could_not_find(tmp_path: Path) -> None:
    session, _, events = session_with(tmp_path, "TIMEOUT is 10.", "It is 10 seconds.",
                                      compute_programs=False)
    out = await session.run_turn("What is TIMEOUT in app/config.py?")
    assert out.text.startswith("I could not find that in the workspace (I read app/config.py)")
    assert "10" not in out.text
    assert next(e for e in events if isinstance(e, TurnFinished)).text == out.text
    assert session.harness is not None
    assert session.harness.counters["grounding_retries"] == 1
    assert session.harness.counters["not_found"] == 1


async def test_the_request_said_back_is_not_an_answer(tmp_path: Path) -> None:
    session, provider, _ = session_with(
        tmp_path, "How many rows does data/rows.csv have?", "How many rows does data/rows.csv have",
        grounded_reads=False)
    out = await session.run_turn("How many rows does data/rows.csv have?")
    assert "You repeated my request" in provider.requests[1].messages[-1].content
    assert out.text.startswith("I could not find that")


async def test_the_retry_of_a_request_said_back_points_to_the_lines_about_it(
        tmp_path: Path) -> None:
    from app.core.harness.claims import topic_lines

    grep = ("shop/config.py:6: CURRENCY = 'EUR'\nshop/report.py:3: from shop.config import "
            "CURRENCY\nshop/report.py:9: print(total)")
    assert topic_lines([grep], "Which module imports CURRENCY from the config?") == [
        "shop/report.py:3: from shop.config import CURRENCY", "shop/config.py:6: CURRENCY = 'EUR'"]
    assert topic_lines([grep], "Which module prints?") == []  # one content word: no pointer
    ask = "Which NAME does app/config.py give the shop?"
    session, provider, _ = session_with(tmp_path, ask, "The shop is called 'shop'.",
                                        compute_programs=False)
    out = await session.run_turn(ask)
    retry = provider.requests[1].messages[-1].content
    assert retry.startswith("You repeated my request")
    assert retry.endswith("Lines read in this turn that mention it:\nNAME = 'shop'")
    assert out.text == "The shop is called 'shop'."


def test_an_answer_that_restates_the_question_is_no_echo() -> None:
    from app.core.harness.harness import echoes

    ask = "What is the value of TIMEOUT in inventory/config.py?"
    assert echoes("What is the value of TIMEOUT in inventory/config.py", ask)
    assert echoes("the value of TIMEOUT in inventory/config.py", ask)
    assert not echoes("The value of TIMEOUT in inventory/config.py is 37.", ask)
    assert not echoes("TIMEOUT is 37", ask)


def test_an_answer_in_the_requests_own_words_tells_nothing() -> None:
    from app.core.harness.harness import echoes

    ask = "Run the tests in tests/test_calc.py with pytest and tell me which test fails."
    assert echoes("The tests in tests/test_calc.py failed.", ask)
    assert not echoes("test_add fails: assert 4 == 5.", ask)
    # A yes-no question is answered by its polarity in the question's words.
    assert not echoes("Yes, test_add fails.", "Does test_add fail?")
    assert not echoes("No, test_add does not fail.", "Does test_add fail?")
    # An order is confirmed in its own words.
    assert not echoes("I appended the line done to notes.txt.",
                      "Append a line with the word done to notes.txt.")


async def test_general_knowledge_is_not_checked_against_the_workspace(tmp_path: Path) -> None:
    session, provider, _ = session_with(tmp_path, "17*3 = 51.")
    assert (await session.run_turn("What is 17*3?")).text == "17*3 = 51."
    assert len(provider.requests) == 1


async def test_the_check_can_be_turned_off(tmp_path: Path) -> None:
    session, _, _ = session_with(tmp_path, "TIMEOUT is 10.", grounding_check=False)
    assert (await session.run_turn("What is TIMEOUT in app/config.py?")).text == "TIMEOUT is 10."
