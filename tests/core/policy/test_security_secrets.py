"""Secret attempts from the permissions probe: children, encodings, names, errors, logs."""

from __future__ import annotations

import base64
import logging
import sys
from pathlib import Path

import pytest

from app.core.policy.redact import RedactingFormatter, redact, register_secret_env
from app.core.policy.secret_env import child_env
from app.core.settings.tool_config import PermissionsConfig, ToolsConfig
from tests.core.policy.security_helpers import replay

TOKEN = "ghp_probeTOKEN0123456789abcdefXYZ"
DB = "postgres://app:hunter2pass@db.internal:5432/prod"
EXEC_ALLOWED = PermissionsConfig(tools={"exec": "allow"})


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_PAT", "pat_" + TOKEN[4:])
    monkeypatch.setenv("DATABASE_URL", DB)
    monkeypatch.setenv("SVC_PASSWORD", "s3cr")  # short, but a secret variable's value
    monkeypatch.setenv("PROJECT_SETTING", "plain-value")


TRANSFORMS = ['printf %s "$GITHUB_TOKEN" | rev', 'printf %s "$GITHUB_TOKEN" | base64',
              'printf %s "$GITHUB_TOKEN" | xxd -p', 'printf %s "$GITHUB_TOKEN" | cut -c1-16',
              'printf %s "$DATABASE_URL"', 'env']


@pytest.mark.parametrize("command", TRANSFORMS)
async def test_children_never_see_secrets(tmp_path: Path, secrets_env: None,
                                          command: str) -> None:
    run = await replay(tmp_path / "ws", [("exec", {"command": command})],
                       permissions=EXEC_ALLOWED, store=tmp_path / "sessions")
    (attempt,) = run.attempts()
    assert attempt.verdict == "allowed"
    out = attempt.result.content
    for leaked in (TOKEN, TOKEN[::-1], TOKEN[:16], base64.b64encode(TOKEN.encode()).decode()[:16],
                   TOKEN.encode().hex()[:32], "hunter2pass"):
        assert leaked not in out
    if command == "env":
        assert "PROJECT_SETTING=plain-value" in out and "GITHUB" not in out
    assert run.session.store is not None
    run.session.store.close()
    assert TOKEN not in run.session.store.path.read_text()


async def test_a_kept_variable_reaches_the_child(tmp_path: Path, secrets_env: None) -> None:
    run = await replay(tmp_path / "ws", [("exec", {"command": 'test -n "$DATABASE_URL" && '
                                                              'echo has-db'})],
                       permissions=EXEC_ALLOWED,
                       tools=ToolsConfig(exec_env_keep=("DATABASE_URL",)))
    assert run.attempts()[0].result.content == "has-db"


def test_the_child_environment_filter() -> None:
    register_secret_env("MY_PROVIDER_CREDS")
    base = {"PATH": "/bin", "HOME": "/h", "PWD": "/w", "OLDPWD": "/o", "SSH_AUTH_SOCK": "/s",
            "OPENAI_API_KEY": "k" * 20, "GITLAB_PAT": "p" * 20, "DB_PWD": "x" * 10,
            "MY_PROVIDER_CREDS": "c" * 20, "REDIS_URL": "redis://:pw12345@r:6379/0",
            "PLAIN_URL": "https://example.com/x", "BASH_ENV": "/tmp/evil.sh",
            "BASH_FUNC_ls%%": "() { rm -rf x; }", "AWS_REGION": "eu"}
    env = child_env(base, exclude=("AWS_*",))
    assert sorted(env) == ["HOME", "OLDPWD", "PATH", "PLAIN_URL", "PWD", "SSH_AUTH_SOCK"]


def test_redaction_covers_names_values_and_encodings(secrets_env: None) -> None:
    with_newline = base64.b64encode(TOKEN.encode() + b"\n").decode()  # echo "$X" | base64
    text = (f"{TOKEN} {TOKEN[::-1]} {with_newline} "
            f"{TOKEN.encode().hex()} pat_{TOKEN[4:]} {DB} password hunter2pass "
            "pin s3cr but s3cretive stays")
    clean = redact(text)
    for leaked in (TOKEN, TOKEN[::-1], TOKEN.encode().hex(), "hunter2pass", TOKEN[4:], " s3cr "):
        assert leaked not in clean
    assert "[redacted:SVC_PASSWORD]" in clean and "s3cretive" in clean
    assert "[redacted:DATABASE_URL]" in clean and "[redacted:GITHUB_PAT]" in clean


async def test_path_errors_never_expand_variables(tmp_path: Path, secrets_env: None) -> None:
    run = await replay(tmp_path / "ws", [("read_file", {"path": "${HOME}${DATABASE_URL}"}),
                                         ("read_file", {"path": "$GITHUB_TOKEN/x"})])
    for attempt in run.attempts():
        assert attempt.result.is_error
        assert "hunter2pass" not in attempt.result.content and TOKEN not in attempt.result.content


def test_the_whole_log_record_is_redacted(secrets_env: None) -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise RuntimeError(f"connect failed for {DB}")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "token %s", (TOKEN,),
                                   exc_info=sys.exc_info())
    line = formatter.format(record)
    assert TOKEN not in line and "hunter2pass" not in line
    assert "[redacted:GITHUB_TOKEN]" in line and "[redacted:DATABASE_URL]" in line
