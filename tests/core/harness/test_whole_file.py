"""A small model's write or edit gets its content from a whole-file request: the call picks the
file, the content comes back in a fenced block and is what runs (and what the user sees)."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, ToolCallStarted
from app.core.harness.rewrite import content_from, rewrite_messages
from app.core.providers.scripted import ScriptedReply
from tests.core.harness.test_scope_and_counts import session_for


def writes(events: list[Event]) -> list[tuple[str, dict[str, object]]]:
    return [(e.name, e.arguments) for e in events
            if isinstance(e, ToolCallStarted) and not e.grounded]


async def test_an_edit_of_a_read_file_runs_with_the_whole_new_content(tmp_path: Path) -> None:
    bad_edit = ScriptedReply.call("edit_file", path="notes.txt", old_text="milk",
                                  new_text="eggs")  # replaces instead of adding
    session, provider, events = session_for(tmp_path, bad_edit, "milk\neggs\n```",
                                            "I added eggs.")
    out = await session.run_turn("Add eggs at the end of notes.txt.")
    assert out.text == "I added eggs."
    ws = session.options.workspace
    assert (ws / "notes.txt").read_text() == "milk\neggs\n"
    assert writes(events) == [("write_file", {"path": "notes.txt", "content": "milk\neggs\n"})]
    ask = provider.requests[1]
    assert ask.tools == () and ask.prefill == "```\n" and ask.temperature == 0.0
    text = ask.messages[-1].content
    assert "The file notes.txt contains:\n```\nmilk\n```" in text
    assert text.endswith("Request: Add eggs at the end of notes.txt.\n\n"
                         "Write the complete new content of notes.txt, with the change made.")


async def test_a_new_source_file_gets_real_code(tmp_path: Path) -> None:
    prose = ScriptedReply.call("write_file", path="hello.py", content="hello world\n")
    session, provider, events = session_for(tmp_path, prose, "print('hello world')\n```",
                                            "Created hello.py.")
    await session.run_turn("Create hello.py that prints hello world.")
    assert (session.options.workspace / "hello.py").read_text() == "print('hello world')\n"
    assert provider.requests[1].prefill == "```python\n"
    assert "The file hello.py does not exist yet." in provider.requests[1].messages[-1].content
    done = [e for e in writes(events) if e[0] == "write_file"]
    assert done == [("write_file", {"path": "hello.py", "content": "print('hello world')\n"})]


async def test_what_is_not_rewritten(tmp_path: Path) -> None:
    # A big model: the call runs as sent, no extra request.
    edit = ScriptedReply.call("edit_file", path="notes.txt", old_text="milk", new_text="oat milk")
    big, provider, _ = session_for(tmp_path / "a", edit, "Done.", small=False)
    await big.run_turn("In notes.txt, change milk to oat milk.")
    assert (big.options.workspace / "notes.txt").read_text() == "oat milk\n"
    assert len(provider.requests) == 2
    # Turned off by config.
    off, provider, _ = session_for(tmp_path / "b", edit, "Done.", whole_file_writes=False)
    await off.run_turn("In notes.txt, change milk to oat milk.")
    assert (off.options.workspace / "notes.txt").read_text() == "oat milk\n"
    # A file past 200 lines keeps the exact-match edit.
    long, provider, _ = session_for(tmp_path / "c", edit, "Done.")
    ws = long.options.workspace
    (ws / "notes.txt").write_text("milk\n" + "x\n" * 250)
    await long.run_turn("In notes.txt, change milk to oat milk.")
    assert (ws / "notes.txt").read_text().startswith("oat milk\nx\n")
    assert len(provider.requests) == 2


async def test_a_reply_without_a_closed_block_leaves_the_call_as_sent(tmp_path: Path) -> None:
    edit = ScriptedReply.call("edit_file", path="notes.txt", old_text="milk", new_text="oat milk")
    session, _, events = session_for(tmp_path, edit, "oat milk\n(and then the reply ran out",
                                     "Done.")
    await session.run_turn("In notes.txt, change milk to oat milk.")
    assert writes(events)[0][0] == "edit_file"
    assert (session.options.workspace / "notes.txt").read_text() == "oat milk\n"


def test_the_request_shows_what_the_turn_read() -> None:
    asked = rewrite_messages("Write the version into VERSION.", "VERSION", None,
                             [("pyproject.toml", "[project]\nversion = '0.4.2'\n")])[-1].content
    assert "For reference, pyproject.toml contains:\n```\n[project]\nversion = '0.4.2'\n```" in asked
    assert content_from("```python\nx = 1\n```\nThat sets x.") == "x = 1\n"
    assert content_from("```\nx = 1\n") is None  # cut off: not a whole file
    assert content_from("```\n\n```") is None


async def test_what_the_turn_counted_or_ran_goes_into_the_request(tmp_path: Path) -> None:
    read = ScriptedReply.call("read_file", path="stock.csv")
    run = ScriptedReply.call("exec", command="python -c \"print('max 42')\"")
    write = ScriptedReply.call("write_file", path="count.txt", content="3\n")
    session, provider, _ = session_for(tmp_path, read, run, write, "3\n```", "Done.")
    await session.run_turn("Count the rows of stock.csv and write the number into count.txt.")
    asked = provider.requests[3].messages[-1].content
    assert "Known for this request:\n[stock.csv: a header line and 3 data rows]" in asked
    assert "`python -c \"print('max 42')\"` printed:\nmax 42" in asked


async def test_a_small_models_write_content_is_brief_and_never_written_half(
        tmp_path: Path) -> None:
    long = "x = 1\n" * 50
    write = ScriptedReply.call("write_file", path="big.py", content=long)
    # The whole-file reply never closes its block: the call's own content is only a beginning.
    session, provider, events = session_for(tmp_path, write, "x = 1\n" * 3, "Could not.")
    await session.run_turn("Create big.py with fifty lines of x = 1.")
    spec = next(t for t in provider.requests[0].tools if t.name == "write_file")
    assert spec.parameters["properties"]["content"]["maxLength"] == 120
    assert not (session.options.workspace / "big.py").exists()
    done = [e for e in events if type(e).__name__ == "ToolCallFinished"]
    assert done and done[-1].is_error and "did not come back" in done[-1].content
    big, provider, _ = session_for(tmp_path / "big", "ok", small=False)
    await big.run_turn("Create big.py with fifty lines of x = 1.")
    spec = next(t for t in provider.requests[0].tools if t.name == "write_file")
    assert "maxLength" not in spec.parameters["properties"]["content"]
