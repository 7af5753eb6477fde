"""Memory and branches headless: ``nanobot memory`` in a subprocess, ``nanobot run`` with a branch
(it waits for the branch and answers with its result), ``run --private``, and a real-model run
that gets a remembered fact noted before its request and is searchable afterwards."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from app.core.providers.scripted import ScriptedReply
from app.core.settings.config import Config, MemoryConfig
from tests.cli.test_cli import nanobot
from tests.core.swarm.branch_helpers import TwoScripts


def test_memory_commands_add_list_search_edit_pin_delete(tmp_path: Path) -> None:
    ws = str(tmp_path)
    add = nanobot("-w", ws, "memory", "add", "--user", "The user's cat is called Miso")
    assert add.returncode == 0 and "remembered #1" in add.stdout, add.stderr
    again = nanobot("-w", ws, "memory", "add", "--user", "the user's cat is called miso.")
    assert "updated #1" in again.stdout  # a duplicate merges
    nanobot("-w", ws, "memory", "add", "Tests run with make check")
    listed = nanobot("-w", ws, "memory", "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("#2\tproject") and "\tuser\t" in lines[1]
    other = nanobot("-w", str(tmp_path / "elsewhere"), "memory", "list")
    assert "Miso" in other.stdout and "make check" not in other.stdout  # scopes
    found = nanobot("-w", ws, "memory", "search", "what is the cat called")
    assert "The user's cat is called Miso" in found.stdout
    assert nanobot("-w", ws, "memory", "edit", "2", "Tests run with make test").returncode == 0
    assert "pinned #2" in nanobot("-w", ws, "memory", "pin", "2").stdout
    assert " pinned\t" in nanobot("-w", ws, "memory", "list").stdout
    assert "deleted #1" in nanobot("-w", ws, "memory", "delete", "1").stdout
    missing = nanobot("-w", ws, "memory", "delete", "1")
    assert missing.returncode == 2 and "no fact #1" in missing.stderr
    empty = nanobot("-w", ws, "memory", "briefing")
    assert empty.returncode == 0 and "memory briefing: none yet" in empty.stderr
    private = nanobot("memory", "private", "20260101-000000-abcdef")
    assert "this session is private" in private.stdout


def _run_args(prompt: str, **extra: Any) -> argparse.Namespace:
    base = {"prompt": prompt, "json": False, "run_model": None, "model": None, "yes": False,
            "no_save": False, "workspace": None, "quiet": False, "private": False}
    return argparse.Namespace(**{**base, **extra})


def _scripted_runtime(monkeypatch: pytest.MonkeyPatch, provider: Any, ws: Path) -> None:
    import app.runtime.build as build

    real = build.build_runtime

    def fake(**kwargs: Any) -> Any:
        return real(provider=provider, workspace=str(ws), persist=True,
                    config=Config(memory=MemoryConfig(bulletin=False)))

    monkeypatch.setattr(build, "build_runtime", fake)


def test_run_waits_for_a_branch_and_answers_with_its_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli.run import FOLLOW_UP, run

    provider = TwoScripts()
    provider.root.enqueue(ScriptedReply.call("branch", question="Which port does the app use?"))
    provider.root.enqueue("I asked a branch to check the port.")
    provider.root.enqueue("The app listens on port 8443.")
    provider.branch.enqueue(ScriptedReply.call("read_file", path="app.cfg"))
    provider.branch.enqueue("app.cfg says port = 8443.")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.cfg").write_text("port = 8443\n")
    _scripted_runtime(monkeypatch, provider, ws)
    assert run(_run_args("Find the port, on the side.")) == 0
    out = capsys.readouterr()
    assert out.out.splitlines() == ["I asked a branch to check the port.",
                                    "The app listens on port 8443."]
    assert "[branch result] Which port does the app use?\napp.cfg says port = 8443." in out.err
    follow = provider.root.requests[-1].messages
    # The follow-up is the request of a new turn (the harness puts the workspace map before it).
    assert any(m.role == "user" and m.content.endswith(FOLLOW_UP) for m in follow)
    assert any(m.role == "notice" and "port = 8443" in m.content for m in follow)


def test_run_private_keeps_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.run import run

    provider = TwoScripts()
    provider.root.enqueue(ScriptedReply.call("remember", fact="The release is code-named Fox"))
    provider.root.enqueue("Not kept: this run is private.")
    ws = tmp_path / "ws"
    ws.mkdir()
    _scripted_runtime(monkeypatch, provider, ws)
    assert run(_run_args("Remember the code name Fox.", private=True)) == 0
    err = capsys.readouterr().err
    assert "this session is private" in err
    listed = nanobot("-w", str(ws), "memory", "search", "code name Fox")
    assert "Nothing remembered" in listed.stdout


@pytest.mark.model
def test_a_real_run_gets_the_fact_noted_and_is_searchable_after(tmp_path: Path,
                                                                nanobot_home: Path) -> None:
    # The mechanism, not the small model's skill: one short step is enough to show the note.
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("[agent]\nmax_iterations = 1\nmax_tokens = 96\n")
    ws = str(tmp_path)
    assert nanobot("-w", ws, "memory", "add", "--user",
                   "The user's dog is called Biscuit").returncode == 0
    proc = nanobot("-w", ws, "run", "--json", "-p", "What is my dog called?", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    noted = [e for e in events if e["type"] == "MemoryNoted"]
    assert noted and "The user's dog is called Biscuit" in noted[0]["facts"][0]
    assert events[-1]["type"] == "TurnFinished"
    found = nanobot("-w", ws, "memory", "search", "what is my dog called")
    assert "From past sessions:" in found.stdout and "What is my dog called?" in found.stdout
