"""The console script in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]


def nanobot(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd or ROOT, timeout=timeout)


def test_version() -> None:
    proc = nanobot("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"nanobot {__version__}"


def test_config_init_then_check(nanobot_home: Path) -> None:
    assert nanobot("config", "init").returncode == 0
    cfg = nanobot_home / "config" / "config.toml"
    assert cfg.exists()
    proc = nanobot("config", "check")
    assert proc.returncode == 0, proc.stderr
    assert "ok:" in proc.stdout
    again = nanobot("config", "init")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_malformed_config_exits_2_and_is_not_overwritten(nanobot_home: Path) -> None:
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    original = "[local.main]\ncontext_size = 'lots'\n"
    cfg.write_text(original)
    for args in (("config", "check"), ("run", "-p", "hi")):
        proc = nanobot(*args)
        assert proc.returncode == 2
        assert str(cfg) in proc.stderr
        assert "local.main.context_size" in proc.stderr and "an integer" in proc.stderr
    assert cfg.read_text() == original


@pytest.mark.model
def test_run_answers_offline(tmp_path: Path) -> None:
    # A fact rather than arithmetic: with the full tool list in its prompt the 0.5B model answers
    # 17*3 as 41, and a test of the headless path should not hinge on the model's sums.
    proc = nanobot("run", "-p", "What is the capital of France? Reply with one word.",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "paris" in proc.stdout.lower()


@pytest.mark.model
def test_run_makes_a_real_tool_call(tmp_path: Path) -> None:
    (tmp_path / "alpha.txt").write_text("a")
    (tmp_path / "beta.py").write_text("b = 1")
    proc = nanobot("run", "-p", "Which files are in this folder? Use a tool.", "--json",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import json

    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    started = [e for e in events if e["type"] == "ToolCallStarted"]
    finished = [e for e in events if e["type"] == "ToolCallFinished"]
    assert started and started[0]["name"] == "list_dir"
    assert "alpha.txt" in finished[0]["content"] and "beta.py" in finished[0]["content"]
    assert events[-1]["type"] == "TurnFinished"
