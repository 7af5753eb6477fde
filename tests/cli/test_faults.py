"""``nanobot`` in a subprocess against a fault-injecting server, a full disk, read-only
directories, a second writer and odd configs: a clear message and the right exit code, never a
traceback and never a silent success."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.store.session_store import SessionStore
from tests.cli_env import nanobot, write_config
from tests.fault_server import (
    ANSWER,
    FAULTS,
    answer,
    fault_server,
    long_answer,
)


def sessions(home: Path) -> list[Path]:
    return sorted((home / "data" / "sessions").glob("*.jsonl"))


def no_traceback(proc: object) -> None:
    err = getattr(proc, "stderr", "")
    assert "Traceback" not in err and "Logging error" not in err, err


@pytest.mark.parametrize("name", ["html_200", "bare_done", "invalid_json_delta", "no_end"])
def test_a_bad_reply_is_an_error_not_a_silent_answer(name: str, nanobot_home: Path) -> None:
    with fault_server(*FAULTS[name]) as server:
        write_config(nanobot_home, server.base_url)
        proc = nanobot("run", "-p", "what is the answer?", home=nanobot_home)
    assert proc.returncode == 1, proc.stdout
    assert "error: " in proc.stderr and "fault" in proc.stderr
    no_traceback(proc)


def test_a_reply_retried_after_a_reset_replaces_the_text_shown(nanobot_home: Path) -> None:
    with fault_server(*FAULTS["reset_mid_stream"]) as server:
        write_config(nanobot_home, server.base_url)
        proc = nanobot("run", "-p", "go", home=nanobot_home)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "half done\n"  # never "half half done"
    assert "retrying" in proc.stderr and "(try 2 of 3)" in proc.stderr


def test_a_full_disk_gives_one_notice_and_a_failing_exit(nanobot_home: Path) -> None:
    with fault_server(long_answer(150)) as server:
        write_config(nanobot_home, server.base_url)
        proc = nanobot("run", "-p", "write a lot", home=nanobot_home, fsize=4000)
    assert proc.returncode == 1
    assert proc.stdout.startswith("word0 word1")  # the answer itself is not lost
    assert proc.stderr.count("can no longer be saved") == 1
    assert proc.stderr.count("cannot write the log file") <= 1
    no_traceback(proc)
    (path,) = sessions(nanobot_home)
    data = path.read_bytes()
    assert data.endswith(b"\n") and all(json.loads(line) for line in data.splitlines())


def test_a_short_turn_on_a_full_disk_leaves_no_empty_session(nanobot_home: Path) -> None:
    with fault_server(answer) as server:
        write_config(nanobot_home, server.base_url)
        proc = nanobot("run", "-p", "hi", home=nanobot_home, fsize=0)
    assert proc.returncode == 1 and proc.stdout == ANSWER + "\n"
    assert proc.stderr.count("can no longer be saved") == 1
    no_traceback(proc)
    assert sessions(nanobot_home) == []


def test_a_read_only_sessions_directory_is_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with fault_server(answer) as server:
        write_config(home, server.base_url)
        (home / "data" / "sessions").mkdir(parents=True)
        (home / "data" / "sessions").chmod(0o555)
        proc = nanobot("run", "-p", "hi", home=home, unprivileged=True)
    assert proc.returncode == 1 and proc.stdout == ANSWER + "\n"
    assert "can no longer be saved" in proc.stderr and "Permission denied" in proc.stderr
    no_traceback(proc)


def test_a_read_only_home_still_runs_every_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with fault_server(answer) as server:
        write_config(home, server.base_url)
        home.chmod(0o555)  # nothing can be made in it: no state, data or cache directory
        path = nanobot("config", "path", home=home, unprivileged=True)
        run = nanobot("run", "-p", "hi", home=home, unprivileged=True)
    assert path.returncode == 0 and path.stdout.strip().endswith("config.toml")
    assert path.stderr.count("cannot open the log file") == 1
    assert run.returncode == 1 and run.stdout == ANSWER + "\n"
    assert "can no longer be saved" in run.stderr
    no_traceback(path)
    no_traceback(run)


def test_a_second_process_cannot_write_the_same_session(nanobot_home: Path) -> None:
    with fault_server(answer) as server:
        write_config(nanobot_home, server.base_url)
        assert nanobot("run", "-p", "first", home=nanobot_home).returncode == 0
        (path,) = sessions(nanobot_home)
        before = path.read_bytes()
        holder = SessionStore(path)  # another Nanobot has it open
        try:
            proc = nanobot("--resume", path.stem, "run", "-p", "second", home=nanobot_home)
        finally:
            holder.close()
    assert proc.returncode == 2
    assert "open in another Nanobot process" in proc.stderr
    assert path.read_bytes() == before
    no_traceback(proc)


def test_run_resumes_the_session_it_is_given(nanobot_home: Path) -> None:
    with fault_server(answer) as server:
        write_config(nanobot_home, server.base_url)
        assert nanobot("run", "-p", "remember the word kumquat", home=nanobot_home).returncode == 0
        (path,) = sessions(nanobot_home)
        proc = nanobot("--resume", path.stem[:17], "run", "-p", "which word?", home=nanobot_home)
        cont = nanobot("--continue", "run", "-p", "and again?", home=nanobot_home)
    assert proc.returncode == 0 and cont.returncode == 0, proc.stderr + cont.stderr
    sent = json.dumps(server.requests[1]["messages"])
    assert "kumquat" in sent and "which word?" in sent
    assert "which word?" in json.dumps(server.requests[2]["messages"])
    assert sessions(nanobot_home) == [path]  # both went into the same file


def test_an_ambiguous_resume_prefix_is_named(nanobot_home: Path) -> None:
    with fault_server(answer) as server:
        write_config(nanobot_home, server.base_url)
        for _ in range(2):
            assert nanobot("run", "-p", "hi", home=nanobot_home).returncode == 0
        proc = nanobot("--resume", "2", "run", "-p", "x", home=nanobot_home)
    assert proc.returncode == 2 and "ambiguous" in proc.stderr and "no match" not in proc.stderr


def test_a_config_directory_that_is_a_file(nanobot_home: Path) -> None:
    nanobot_home.mkdir(parents=True)
    (nanobot_home / "config").write_text("not a directory")
    path = nanobot("config", "path", home=nanobot_home)
    check = nanobot("config", "check", home=nanobot_home)
    init = nanobot("config", "init", home=nanobot_home)
    run = nanobot("run", "-p", "hi", home=nanobot_home)
    assert path.returncode == 0
    for proc in (check, run):
        assert proc.returncode == 2 and "is a file" in proc.stderr
    assert init.returncode == 2 and "cannot write" in init.stderr
    for proc in (path, check, init, run):
        no_traceback(proc)


def test_an_unreadable_subdirectory_is_skipped_and_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proj = tmp_path / "proj"
    (proj / "open").mkdir(parents=True)
    (proj / "open" / "a.py").write_text("x = 1\n")
    (proj / "closed").mkdir()
    (proj / "closed" / "secret.py").write_text("y = 2\n")
    (proj / "closed").chmod(0)
    try:
        proc = nanobot("ingest", str(proj), "--name", "p", "--no-embed", "-q", home=home,
                       unprivileged=True)
    finally:
        (proj / "closed").chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert "1 unreadable" in proc.stdout and "closed" in proc.stdout
    no_traceback(proc)
