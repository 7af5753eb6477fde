"""A request that names no file gets the files its words point to read first (retrieval, not the
model, finds them); an answer that misses the request entirely is asked again."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.harness.calls import off_topic
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.harness.workspace import WorkspaceIndex
from app.core.providers.scripted import ScriptedProvider
from app.core.tools.base import ToolRegistry
from app.core.tools.defaults import builtin_tools

FILES = {
    "README.md": "# Shop\n\nMaintainer: Dana Whitfield\n",
    "recipes/pancakes.txt": "2 eggs\n200 g flour\n300 ml milk\n",
    "recipes/bread.txt": "500 g flour\nwater\nsalt\n",
    "meetings/a.md": "# 14 March\nLaunch moves to 22 April.\n",
    "meetings/b.md": "# 21 March\nVenue: the Corn Exchange.\n",
    "src/report.py": "from src.config import CURRENCY\n\n\ndef show():\n    return CURRENCY\n",
    "src/config.py": "CURRENCY = 'EUR'\n",
}


def workspace(root: Path) -> Path:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_files_are_found_by_the_words_of_the_request(tmp_path: Path) -> None:
    h = Harness(HarnessConfig(), workspace(tmp_path))

    def reads(request: str) -> list[str]:
        return [str(a["path"]) for t, a in h.grounding_targets(request) if t != "grep"]

    assert reads("Who maintains this project?") == ["README.md"]  # "Maintainer"
    assert reads("How many eggs do I need for the pancakes?") == ["recipes/pancakes.txt"]
    assert reads("Which meeting notes mention the Corn Exchange?") == ["meetings/b.md"]
    # The file defining a name the request uses, then the files its words point to (the rarer
    # words weigh more: the one that imports CURRENCY).
    assert reads("Which module imports CURRENCY from the config?") == ["src/config.py",
                                                                       "src/report.py"]
    # ... and where that name is used outside the file defining it is searched for.
    assert h.grounding_targets("Which module imports CURRENCY from the config?")[1] == (
        "grep", {"pattern": r"\bCURRENCY\b"})
    assert not [t for t, _a in h.grounding_targets("What does show return?") if t == "grep"]
    assert reads("What is the capital of France?") == []  # nothing here is about it
    assert reads("What does bread need besides water?")[0] == "recipes/bread.txt"
    off = Harness(HarnessConfig(related_reads=0), tmp_path)
    assert [a for _t, a in off.grounding_targets("Who maintains this project?")] == []


def test_only_files_with_half_of_the_words_count(tmp_path: Path) -> None:
    index = WorkspaceIndex.build(workspace(tmp_path))
    assert index.related_files({"sugar", "goes", "pancake"}, 2) == []  # 1 of 3
    assert index.related_files({"sugar", "pancake"}, 2) == ["recipes/pancakes.txt"]  # 1 of 2


async def test_the_related_file_is_read_before_the_model_answers(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    provider = ScriptedProvider(["Dana Whitfield maintains it."])
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(), ws))
    events: list[Event] = []
    session.add_listener(events.append)
    out = await session.run_turn("Who maintains this project?")
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.name, e.arguments, e.grounded) for e in started] == [
        ("read_file", {"path": "README.md"}, True)]
    assert "Maintainer: Dana Whitfield" in provider.requests[0].messages[-1].content
    assert out.text == "Dana Whitfield maintains it."


async def test_where_a_named_symbol_is_used_is_shown_with_the_request(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    provider = ScriptedProvider(["src/report.py imports it."])
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(), ws))
    out = await session.run_turn("Which module imports CURRENCY from the config?")
    seen = provider.requests[0].messages[-1].content
    assert "--- where CURRENCY occurs ---" in seen
    assert "src/report.py:1: from src.config import CURRENCY" in seen
    assert out.text == "src/report.py imports it."


async def test_an_answer_that_misses_the_request_is_asked_again(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    provider = ScriptedProvider(["Shop", "You need 2 eggs."])
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(), ws))
    out = await session.run_turn("How many eggs do I need for the pancakes?")
    assert out.text == "You need 2 eggs."
    assert provider.requests[1].messages[-1].content.startswith(
        "Your answer does not answer my request.")
    assert len(provider.requests) == 2  # no program for an answer that missed the point
    assert off_topic("To do", "How many eggs do I need?", ["2 eggs"])
    assert not off_topic("Hello, World!", "Run greet.py and tell me what it prints.",
                         ["Hello, World!"])  # it quotes what the tool returned
    assert not off_topic("2 eggs.", "How many eggs?", [])  # a value, and on topic


def test_running_a_script_that_is_not_there_is_stopped_before_it_runs(tmp_path: Path) -> None:
    from app.core.agent.messages import ToolCall
    from app.core.tools.base import ToolRegistry as Registry

    ws = workspace(tmp_path)
    (ws / "run.sh").write_text("echo hi\n")
    h = Harness(HarnessConfig(), ws)
    exec_tool = Registry(builtin_tools()).get("exec")
    assert exec_tool is not None
    schema = exec_tool.spec.parameters

    def problem(command: str) -> str:
        return h.review_call(ToolCall("1", "exec", {"command": command}), schema)

    assert problem("python primes.py").startswith("primes.py does not exist yet, so "
                                                 "`python primes.py` cannot run.")
    assert "create it first" in problem("./build.sh")
    for fine in ("sh run.sh", "python -m pytest", "python3 src/report.py", "ls -la",
                 "python primes.py && echo ok"):  # compound commands are left to the shell
        assert problem(fine) == "", fine


async def test_grep_line_numbers_do_not_support_a_count(tmp_path: Path) -> None:
    from app.core.providers.scripted import ScriptedReply as Reply

    ws = workspace(tmp_path)
    (ws / "people.csv").write_text("name,city\nA,Leeds\nB,York\nC,Leeds\nD,York\n")
    provider = ScriptedProvider([Reply.call("grep", pattern="Leeds", path="people.csv"),
                                 "There are 4 people in Leeds.", "There are 4 in Leeds."])
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(compute_programs=False, related_reads=0), ws))
    out = await session.run_turn("How many people live in Leeds?")
    # grep printed "people.csv:4: C,Leeds", but nothing states 4 people in Leeds (there are 2).
    assert out.text.startswith("I could not find") and "4 people" not in out.text


def test_nanobots_own_files_inside_the_workspace_are_not_indexed(
        tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    ws = workspace(tmp_path / "ws")
    home = ws / "nanobot-home"
    (home / "data" / "sessions").mkdir(parents=True)
    (home / "data" / "sessions" / "s.jsonl").write_text('{"content": "capital of France"}\n')
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text("[ui]\n")
    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("NANOBOT_HOME", str(home))
    index = WorkspaceIndex.build(ws)
    assert "nanobot-home/data/sessions/s.jsonl" not in index.files
    assert "nanobot-home/config/config.toml" in index.files  # the user's own settings stay
    h = Harness(HarnessConfig(), ws)
    assert h.grounding_targets("What is the capital of France?") == []


async def test_a_grep_line_quoted_as_the_answer_is_not_checked_for_its_line_number(
        tmp_path: Path) -> None:
    from app.core.providers.scripted import ScriptedReply as Reply

    ws = workspace(tmp_path)
    answer = "meetings/b.md:2: Venue: the Corn Exchange."
    provider = ScriptedProvider([Reply.call("grep", pattern="Corn Exchange"), answer])
    session = Session(provider, tools=ToolRegistry(builtin_tools()),
                      options=SessionOptions(workspace=ws), auto_approve=True,
                      harness=Harness(HarnessConfig(related_reads=0), ws))
    out = await session.run_turn("Which meeting notes mention the Corn Exchange?")
    assert out.text == answer and len(provider.requests) == 2  # accepted as it is
