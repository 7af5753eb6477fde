"""Command-line conventions: shell completion that really completes, --verbose/--quiet and the
log_level key, documented exit codes, Ctrl+C as 130."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli import build_parser, log_level
from app.core.settings.config import ConfigError, parse_config
from tests.cli.test_cli import nanobot


def _complete(script: Path, *words: str) -> list[str]:
    """What bash offers for ``nanobot WORDS…`` (the last word is being typed)."""
    line = " ".join(["nanobot", *words])
    words_arr = " ".join(f"'{w}'" for w in ["nanobot", *words])
    prev = (["nanobot", *words])[-2]
    code = (f"source {script}; COMP_WORDS=({words_arr}); COMP_CWORD={len(words)}; "
            f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; "
            f"_shtab_nanobot nanobot '{words[-1]}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    out = subprocess.run(["bash", "-c", code], capture_output=True, text=True, timeout=30)
    return out.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completion_completes_commands_choices_and_flags(tmp_path: Path) -> None:
    proc = nanobot("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / "nanobot.bash"
    script.write_text(proc.stdout)
    assert {"serve", "setup", "search"} <= set(_complete(script, "se"))
    assert _complete(script, "completion", "") == ["bash", "zsh", "tcsh", "fish"]
    assert {"--port", "--public-url"} <= set(_complete(script, "serve", "--p"))
    assert "--verbose" in _complete(script, "run", "--ver")


def test_zsh_completion_is_generated() -> None:
    proc = nanobot("completion", "zsh")
    assert proc.returncode == 0 and "#compdef nanobot" in proc.stdout and "serve" in proc.stdout


def test_help_documents_the_exit_codes() -> None:
    out = nanobot("--help").stdout + nanobot("run", "--help").stdout
    for code in ("0 success", "1 the work failed", "2 bad input", "3 refused to start",
                 "4 process stopped or busy", "130 cancelled"):
        assert code in " ".join(out.split()), code


def test_verbose_quiet_and_the_log_level_key(nanobot_home: Path) -> None:
    parser = build_parser()
    assert log_level(parser.parse_args([])) == logging.INFO
    assert log_level(parser.parse_args(["-v"])) == logging.DEBUG
    assert log_level(parser.parse_args(["run", "-p", "x", "--verbose"])) == logging.DEBUG
    assert log_level(parser.parse_args(["-q", "run", "-p", "x"])) == logging.WARNING
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text('log_level = "debug"\n')
    assert log_level(parser.parse_args([])) == logging.DEBUG
    assert log_level(parser.parse_args(["--quiet"])) == logging.WARNING  # the flag wins
    with pytest.raises(SystemExit):
        parser.parse_args(["-v", "-q"])  # one or the other
    with pytest.raises(ConfigError, match="log_level"):
        parse_config('log_level = "loud"\n')


def test_verbose_logs_to_stderr_for_a_headless_command_quiet_keeps_it_silent(
        nanobot_home: Path) -> None:
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text('[mcp_servers.x]\ncommand = "no-such-binary-here"\n')
    doctor = nanobot("-v", "doctor", timeout=120)
    assert "MCP server x failed" in doctor.stderr  # a log record, shown because of -v
    quiet = nanobot("doctor", timeout=120)
    assert "MCP server x failed" not in quiet.stderr
    log = (nanobot_home / "state" / "nanobot.log").read_text()
    assert "MCP server x failed" in log


def test_ctrl_c_exits_130(nanobot_home: Path) -> None:
    import os
    import signal
    import sys

    # A command still working when the user presses Ctrl+C. The child takes SIGINT as a terminal's
    # foreground process does: a test run started in the background (`make test &`) passes it on
    # ignored, and then no Ctrl+C would ever arrive.
    proc = subprocess.Popen([sys.executable, "-c",
                             "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
                             "import sys, time; from app.cli import main\n"
                             "import app.cli.config as c\n"
                             "def slow(args):\n    print('ready', flush=True); time.sleep(60)\n"
                             "c.run = slow\nsys.exit(main(['config', 'path']))"],
                            cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NANOBOT_HOME": str(nanobot_home)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
