"""``nanobot run -p`` builds its session with ``build_runtime``, the path the app takes: the agent
harness is on there (grounded reads shown, invented values checked), with the real CLI code and a
scripted model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import parse_config
from app.runtime import build as runtime

REAL_BUILD = runtime.build_runtime


def wire(monkeypatch: pytest.MonkeyPatch, workspace: Path, replies: list[Any],
         config_text: str = "") -> ScriptedProvider:
    """The real ``build_runtime`` with a scripted model in place of the stack."""
    provider = ScriptedProvider(replies)

    def build(**kwargs: Any) -> runtime.Runtime:
        return REAL_BUILD(config=parse_config(config_text), provider=provider,
                          workspace=str(workspace), persist=False)

    monkeypatch.setattr(runtime, "build_runtime", build)
    return provider


def project(root: Path) -> Path:
    (root / "config.py").write_text("TIMEOUT = 37\nNAME = 'shop'\n")
    (root / "notes.txt").write_text("first\n")
    return root


def test_run_reads_the_named_file_first_and_says_so(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    provider = wire(monkeypatch, project(tmp_path), ["TIMEOUT is 37."])
    assert cli.main(["run", "-p", "What is TIMEOUT in config.py?", "--no-save"]) == 0
    out = capsys.readouterr()
    assert "→ Reading config.py (read for your request)" in out.err
    assert out.out.strip() == "TIMEOUT is 37."
    # The model saw the file's content with the request, before its first step.
    assert "TIMEOUT = 37" in provider.requests[0].messages[-1].content


def test_run_does_not_print_a_value_nobody_read(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # Without the program step (tests/core/harness/test_program_step.py has it), so the retry
    # is the model's own.
    provider = wire(monkeypatch, project(tmp_path), ["TIMEOUT is 10.", "TIMEOUT is 12."],
                    "[harness]\ncompute_programs = false\n")
    assert cli.main(["run", "-p", "What is TIMEOUT in config.py?", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "10" not in out and "12" not in out  # withdrawn before they reached stdout
    assert "could not find" in out.lower()
    assert len(provider.requests) == 2  # one extractive retry, then the honest answer


def test_run_without_the_harness_is_the_bare_loop(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = ("[harness]\nrepo_map = false\ngrounded_reads = false\ngrounding_check = false\n")
    provider = wire(monkeypatch, project(tmp_path), ["TIMEOUT is 10."], config)
    assert cli.main(["run", "-p", "What is TIMEOUT in config.py?", "--no-save"]) == 0
    out = capsys.readouterr()
    assert "read for your request" not in out.err
    assert out.out.strip() == "TIMEOUT is 10."
    assert "TIMEOUT = 37" not in provider.requests[0].messages[-1].content


def test_an_unread_file_is_not_overwritten_through_run(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    wire(monkeypatch, project(tmp_path), [
        ScriptedReply.call("write_file", path="notes.txt", content="second\n"), "done"])
    assert cli.main(["run", "-p", "Put second in the notes.", "--yes", "--no-save"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "first\n"
    assert "read" in capsys.readouterr().err.lower()
