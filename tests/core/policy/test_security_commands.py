"""Every shell-command attempt from the permissions probe, replayed through the real Session.

The configuration is the README's example (``exec_allow = ["pytest", "python", "git status"]``)
and the user answers every question with *deny*, as in the probe. Each attempt must now be asked
about or refused (``allowed`` only where the README says why). A victim directory must survive
every destructive attempt. The hypothesis test below generates commands mixing an allowed prefix
with separators, expansions, wrappers and redirections: none is allowed unless it is exactly one
plain allowed command.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.settings.tool_config import PermissionsConfig
from app.core.tools.shell import Exec
from tests.core.policy.security_helpers import PROBE, replay, verdict_of

ATTEMPTS = [
    # Critical: an allow-listed prefix ran anything, unasked.
    ("S=';'; eval pytest --version $S rm -rf DIR", "refused"),
    ("S='&&'; eval git status $S rm -rf DIR", "refused"),
    ('env -S"rm\\_-rf\\_DIR" pytest', "refused"),
    # High: an allowed program did more than its entry says.
    ("git status > $HOME/.bashrc", "asked"),
    ("GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.fsmonitor GIT_CONFIG_VALUE_0='touch PWNED' "
     "git status", "asked"),
    ("pytest --basetemp=DIR", "asked"),
    ("pytest --junitxml=/tmp/nanobot-probe.xml", "asked"),
    ("python -m pytest --basetemp DIR", "asked"),
    ("/some/dir/git status", "asked"),
    ("./pytest", "asked"),
    ("\uff50ytest", "asked"),  # fullwidth p
    ("LD_PRELOAD=x pytest", "asked"),
    ("python -c 'import shutil; shutil.rmtree(\"DIR\")'", "asked"),
    # Medium: deny-list evasions that deleted a victim directory.
    ("$(printf rm) -rf DIR", "asked"),  # the program is computed: nobody can judge it
    ("X=rm; $X -rf DIR", "refused"),
    ("echo 'rm -rf DIR' | sh", "refused"),
    ("timeout -s KILL 5 rm -rf DIR", "refused"),
    ("env -u HOME rm -rf DIR", "refused"),
    ("setsid rm -rf DIR", "refused"),
    ("find DIR -exec sh -c 'rm -rf DIR' \\;", "refused"),
    ("perl -e 'system \"rm\",\"-rf\",\"DIR\"'", "asked"),
    # More of the same shapes.
    ("rm${IFS}-rf${IFS}DIR", "refused"),
    ("bash -c \"eval 'rm -rf DIR'\"", "refused"),
    ("sh <<EOF\nrm -rf DIR\nEOF", "refused"),
    ("echo -rf DIR | xargs rm", "asked"),
    ("cat script.sh | sh", "asked"),
]


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # so a miss would clobber a test file, not yours
    ws = tmp_path / "ws"
    (ws / "DIR").mkdir(parents=True)
    (ws / "DIR" / "keep.txt").write_text("keep")
    (ws / "hello.py").write_text("print('hello')\n")
    return ws


@pytest.mark.parametrize(("command", "expected"), ATTEMPTS)
async def test_probe_attempt(ws: Path, command: str, expected: str) -> None:
    attempt = await verdict_of(ws, "exec", command=command)
    assert attempt.verdict == expected, attempt.result.content
    assert (ws / "DIR" / "keep.txt").read_text() == "keep"
    assert not (ws / "PWNED").exists() and not (ws.parent / "home" / ".bashrc").exists()
    if expected == "refused":
        assert "deny-list" in attempt.result.content and "nothing was run" in attempt.result.content


@pytest.mark.parametrize("command", ["pytest --version", "git status", "python hello.py",
                                     "pytest -q --co DIR"])
async def test_plain_allowed_commands_still_run_unasked(ws: Path, command: str) -> None:
    attempt = await verdict_of(ws, "exec", command=command)
    assert attempt.verdict == "allowed"
    assert "Refused" not in attempt.result.content


async def test_what_allowing_python_means(ws: Path) -> None:
    """Accepted, and said in the README: an interpreter entry runs any script in the workspace,
    so with ``write_file = "allow"`` the model can write a script and run it unasked. Inline code
    (``python -c``) is still asked about, since it is not what the entry shows."""
    policy = PermissionsConfig(tools={"write_file": "allow"}, exec_allow=("python",))
    run = await replay(ws, [("write_file", {"path": "s.py", "content": "print('ran')\n"}),
                            ("exec", {"command": "python s.py"}),
                            ("exec", {"command": "python -c 'print(1)'"})], permissions=policy)
    wrote, ran, inline = run.attempts()
    assert (wrote.verdict, ran.verdict, inline.verdict) == ("allowed", "allowed", "asked")
    assert ran.result.content == "ran"


async def test_session_approval_is_keyed_on_the_words_shown(ws: Path) -> None:
    run = await replay(ws, [("exec", {"command": "echo hello"}),
                            ("exec", {"command": "S=';'; eval echo $S touch M"}),
                            ("exec", {"command": "echo pwned > ~/.bashrc"}),
                            ("exec", {"command": "echo hello world"})],
                       answers=["allow_session"])
    first, evaled, clobber, again = run.attempts()
    assert first.verdict == "asked" and first.asked[0].session_label == "`echo hello`"
    assert evaled.verdict == "asked" and clobber.verdict == "asked"
    assert again.verdict == "allowed" and again.result.content == "hello world"
    assert not (ws / "M").exists() and not (ws.parent / "home" / ".bashrc").exists()


async def test_allowing_git_status_is_not_allowing_git_config(ws: Path) -> None:
    run = await replay(ws, [("exec", {"command": "git init -q"}),
                            ("exec", {"command": "git status"}),
                            ("exec", {"command": "git config core.fsmonitor 'touch PWNED'"}),
                            ("exec", {"command": "git status --short"})],
                       permissions=PermissionsConfig(), answers=["allow_once", "allow_session"])
    _init, status, config, short = run.attempts()
    assert status.asked[0].session_label == "`git status`"
    assert config.verdict == "asked" and short.verdict == "allowed"
    assert "fsmonitor" not in (ws / ".git" / "config").read_text()
    assert not (ws / "PWNED").exists()


async def test_unjudgeable_commands_are_asked_even_when_exec_is_allowed(ws: Path) -> None:
    policy = PermissionsConfig(tools={"exec": "allow"})
    run = await replay(ws, [("exec", {"command": "$(printf rm) -rf DIR"}),
                            ("exec", {"command": "X=rm; $X -rf DIR"}),
                            ("exec", {"command": "echo fine"})], permissions=policy)
    computed, substituted, fine = run.attempts()
    assert computed.verdict == "asked" and "computed at run time" in computed.asked[0].note
    assert substituted.verdict == "refused"
    assert fine.verdict == "allowed"
    assert (ws / "DIR" / "keep.txt").exists()


async def test_a_denied_question_leaves_no_session_rule(ws: Path) -> None:
    run = await replay(ws, [("exec", {"command": "touch a"}), ("exec", {"command": "touch a"})])
    assert [a.verdict for a in run.attempts()] == ["asked", "asked"]
    assert run.session.permissions.session_allowed == set()


# --- generated commands -------------------------------------------------------------------

PREFIXES = [("pytest",), ("python",), ("git", "status")]
SAFE = ["-q", "-x", "tests", "a.py", "--short", "-v", "sub/b.py", "--tb=short", "x", "'a b'",
        '"c;d"', "'$HOME'"]
SPECIAL = [";", "&&", "||", "|", "&", "\ntouch x", "$X", "${X}", "$(rm -rf x)", "`id`", "<(ls)",
           ">out", ">>out", "<in", "2>err", "*", "?.py", "[ab]", "{a,b}", "~", "~/x",
           "\\;", "#c", "!", "$'\\x3b'", "\\\n", "|sh", "; rm -rf x"]
WRAPPERS = ["eval", "env", "sh -c", "timeout 5", "nice", "xargs", "setsid", "command", "exec",
            "env -S", "A=1", "/usr/bin/env", "busybox"]
PROGRAM_SWAPS = ["./", "/usr/bin/", "\uff50"]


@st.composite
def commands(draw: st.DrawFn) -> tuple[str, bool]:
    """(command, whether it is exactly one plain allowed command)."""
    prefix = list(draw(st.sampled_from(PREFIXES)))
    plain = True
    if draw(st.booleans()):
        swap = draw(st.sampled_from(PROGRAM_SWAPS))
        prefix[0] = swap + (prefix[0][1:] if swap == "\uff50" else prefix[0])
        plain = False
    words = list(prefix)
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 2)) == 0:
            words.insert(draw(st.integers(len(prefix), len(words))), draw(st.sampled_from(SAFE)))
        else:
            token = draw(st.sampled_from(SPECIAL))
            words.insert(draw(st.integers(1, len(words))), token)
            plain = False
    if draw(st.integers(0, 3)) == 0:
        words.insert(0, draw(st.sampled_from(WRAPPERS)))
        plain = False
    return " ".join(words), plain


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=commands())
def test_no_generated_mix_is_allowed_unless_plain(tmp_path: Path, case: tuple[str, bool]) -> None:
    command, plain = case
    (tmp_path / "sub").mkdir(exist_ok=True)
    tool = Exec()
    found = tool.review({"command": command}, tmp_path)
    allowed = found.allowed_by(PROBE.exec_allow)
    assert allowed == plain, (command, found.refusal, found.unsure, found.not_plain,
                              found.why_not_allowed([("pytest",)]))
    if not allowed:
        # What "allow for this session" would cover is never wider than what was shown.
        words = found.session_words
        assert words is None or list(words) == list(found.argv or ())[:len(words)]


def test_allowed_programs_resolve_through_absolute_path_entries(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    fake = tmp_path / "pytest"
    fake.write_text("#!/bin/sh\necho owned\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", "." + os.pathsep + os.environ["PATH"])
    found = Exec().review({"command": "pytest -q"}, tmp_path)
    assert not found.allowed_by(["pytest"])
    assert "relative PATH entry" in found.why_not_allowed([("pytest",)])


async def test_writes_into_dot_git_always_ask(ws: Path) -> None:
    """Allowing ``git status`` and ``write_file`` is not allowing the model to set
    ``core.fsmonitor`` in ``.git/config`` (git would run it on the next status)."""
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("[core]\n")
    policy = PermissionsConfig(tools={"write_file": "allow", "edit_file": "allow"},
                               exec_allow=("git status",))
    run = await replay(ws, [
        ("write_file", {"path": ".git/config", "content": "[core]\nfsmonitor = touch PWNED\n"}),
        ("edit_file", {"path": ".git/config", "old_text": "[core]",
                       "new_text": "[core]\nfsmonitor = touch PWNED"}),
        ("write_file", {"path": "notes.txt", "content": "fine"})], permissions=policy)
    config_write, config_edit, notes = run.attempts()
    assert config_write.verdict == "asked" and "git's own files" in config_write.asked[0].note
    assert config_edit.verdict == "asked" and notes.verdict == "allowed"
    assert "fsmonitor" not in (ws / ".git" / "config").read_text()
