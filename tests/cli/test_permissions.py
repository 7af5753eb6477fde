"""Headless ``run -p`` refuses tools that ask unless ``--yes`` (real CLI code, scripted model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app import cli
from app.core.agent.session import SessionOptions
from app.core.providers.scripted import ScriptedProvider, ScriptedReply
from app.core.settings.config import Config
from app.runtime import build as runtime
from app.runtime.factory import SessionFactory, builtin_tool_source


@pytest.fixture
def scripted_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    def build(**kwargs: Any) -> runtime.Runtime:
        config = Config()  # default policy: write_file asks
        provider = ScriptedProvider([
            ScriptedReply.call("write_file", path="x.txt", content="hi\n"), "finished"])
        # The real factory, as build_runtime makes it, on a scripted model and no saving.
        factory = SessionFactory(config, provider, options=SessionOptions(workspace=tmp_path),
                                 tools=builtin_tool_source(config),
                                 auto_approve=kwargs["auto_approve"])
        return runtime.Runtime(config, factory)

    monkeypatch.setattr(runtime, "build_runtime", build)
    return tmp_path


def test_headless_run_refuses_without_yes(scripted_runtime: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "-p", "make x.txt", "--no-save"]) == 0
    err = capsys.readouterr().err
    assert "Refused: write_file needs the user's approval" in err
    assert not (scripted_runtime / "x.txt").exists()


def test_headless_run_with_yes_runs_the_tool(scripted_runtime: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "-p", "make x.txt", "--yes", "--no-save"]) == 0
    assert (scripted_runtime / "x.txt").read_text() == "hi\n"
    assert "→ Writing x.txt" in capsys.readouterr().err
