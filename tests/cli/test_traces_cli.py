"""``nanobot traces``, ``traces export``, ``traces verify``, ``stats`` and ``skills`` as a user runs
them: a real ``nanobot run`` against a local OpenAI-style server records the turn; the commands
list, export and check it. ``nanobot skills`` manages a recipe learned from scripted turns."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import ROOT, nanobot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stub_server() -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "stub_openai_server.py"),
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:  # a child's port: there is no readiness event to await
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline, "stub server did not start"
        time.sleep(0.05)  # polling a child's port (see above)
    yield port
    proc.kill()
    proc.wait()


def _config(home: Path, port: int) -> None:
    cfg = home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f'[agent]\nprovider = "stub"\nmodel = "stub"\n'
                   f'[providers.stub]\nbase_url = "http://127.0.0.1:{port}/v1"\n'
                   'models = ["stub"]\n[resilience]\nprobe_local = false\n[router]\n'
                   'enabled = false\n')


def test_a_headless_run_is_traced_listed_exported_and_verified(
        nanobot_home: Path, stub_server: int, tmp_path: Path) -> None:
    _config(nanobot_home, stub_server)
    for prompt in ("What is 2 + 2?", "What is 3 + 5?"):
        run = nanobot("run", "-p", prompt, "--no-save", cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert "stub reply" in run.stdout
    listed = nanobot("traces", "--json")
    assert listed.returncode == 0, listed.stderr
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["task"] for r in records] == ["What is 3 + 5?", "What is 2 + 2?"]
    newest, first = records
    assert newest["status"] == "finished" and newest["answer"] == "stub reply"
    assert newest["category"] == first["category"] == "what-is-num-num"
    assert newest["model"] == "stub" and newest["steps"] == 1
    assert newest["prev"] == first["hash"]  # one chain across the two processes
    # Headless runs have no next action and no 👍/👎: both unjudged, so nothing to export yet.
    assert first["success"] is None
    text = nanobot("traces", "--last", "1")
    assert text.returncode == 0 and "What is 3 + 5?" in text.stdout
    assert "What is 2 + 2?" not in text.stdout
    assert "1 shown" in text.stdout
    assert nanobot("traces", "--category", "nothing-like-it").stdout.startswith("No traces")
    verify = nanobot("traces", "verify")
    assert verify.returncode == 0 and "2 record(s) in 1 file(s): the chain is whole" in \
        verify.stdout
    stats = nanobot("stats")
    assert stats.returncode == 0 and "what-is-num-num" in stats.stdout
    assert json.loads(nanobot("stats", "--json").stdout)[0]["runs"] == 2

    # The user's verdict (what /rate and the traces screen record) makes them exportable.
    from app.runtime.learning import make_learner

    learner = make_learner()
    learner.judge(first["id"], True, "user")
    learner.judge(newest["id"], False, "user")
    out = tmp_path / "train.jsonl"
    exported = nanobot("traces", "export", "--format", "chat", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "wrote 1 successful turn(s)" in exported.stdout and "1 failed one(s)" in \
        exported.stdout
    good = json.loads(out.read_text())
    assert good["messages"] == [{"role": "user", "content": "What is 2 + 2?"},
                                {"role": "assistant", "content": "stub reply"}]
    assert good["meta"]["success"] is True
    bad = json.loads((tmp_path / "train.negatives.jsonl").read_text())
    assert bad["meta"]["trace"] == newest["id"]
    again = nanobot("traces", "export", "--out", str(out))
    assert "wrote 0 successful" in again.stdout  # already exported
    assert "wrote 1 successful" in nanobot("traces", "export", "--all", "--out",
                                           str(out)).stdout

    # A record changed on disk breaks the chain, and verify says where.
    log = next((nanobot_home / "state" / "learning" / "traces").glob("*.jsonl"))
    lines = log.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["task"] = "What is 2 + 3?"
    log.write_text("\n".join([json.dumps(rec), *lines[1:]]) + "\n")
    broken = nanobot("traces", "verify")
    assert broken.returncode == 1 and "hash does not match" in broken.stdout


def test_learning_can_be_turned_off(nanobot_home: Path, stub_server: int,
                                    tmp_path: Path) -> None:
    _config(nanobot_home, stub_server)
    cfg = nanobot_home / "config" / "config.toml"
    cfg.write_text(cfg.read_text() + "[learning]\ntraces = false\n")
    assert nanobot("run", "-p", "hello", "--no-save", cwd=tmp_path).returncode == 0
    assert nanobot("traces").stdout.startswith("No traces")


def test_bad_learning_config_exits_2(nanobot_home: Path) -> None:
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text("[learning]\nmin_confidence = 3\n")
    for args in (("traces",), ("stats",), ("traces", "export")):
        proc = nanobot(*args)
        assert proc.returncode == 2 and "learning.min_confidence" in proc.stderr


async def test_skills_lists_shows_disables_and_deletes_a_learned_recipe(
        nanobot_home: Path, tmp_path: Path) -> None:
    from app.runtime.learning import make_learner
    from tests.core.learning.test_recipes_scripted import edit_by_model

    learner = make_learner()
    for i, (name, old, new) in enumerate([("TIMEOUT", "37", "60"), ("MAX_RETRIES", "4", "9"),
                                          ("TIMEOUT", "37", "15")]):
        session, hook = await edit_by_model(tmp_path, learner, i, name, old, new)
        assert hook.judge_last(session, True, "user")
    (recipe,) = learner.book.load().values()
    # A skill the user wrote sits beside it in the workspace.
    written = tmp_path / "ws" / "skills" / "notes"
    written.mkdir(parents=True)
    (written / "SKILL.md").write_text("---\nname: notes\ndescription: Keep notes tidy.\n---\n"
                                      "Sort them.\n")
    ws = str(tmp_path / "ws")
    listed = nanobot("-w", ws, "skills")
    assert listed.returncode == 0, listed.stderr
    assert "  notes: Keep notes tidy." in listed.stdout
    assert f"{recipe.name} [enabled]: read_file → edit_file" in listed.stdout
    shown = nanobot("-w", ws, "skills", "show", recipe.name)
    assert shown.returncode == 0 and "learned: true" in shown.stdout
    off = nanobot("-w", ws, "skills", "disable", recipe.name)
    assert off.returncode == 0 and "no longer runs" in off.stdout
    assert learner.book.load()[recipe.name].enabled is False
    assert f"{recipe.name} [disabled]" in nanobot("-w", ws, "skills").stdout
    assert nanobot("-w", ws, "skills", "enable", recipe.name).returncode == 0
    assert learner.book.load()[recipe.name].enabled is True
    # A written skill is switched off in its front matter, never deleted.
    assert nanobot("-w", ws, "skills", "disable", "notes").returncode == 0
    assert "notes: Keep notes tidy. [disabled]" in nanobot("-w", ws, "skills").stdout
    refused = nanobot("-w", ws, "skills", "delete", "notes")
    assert refused.returncode == 1 and "a skill you wrote" in refused.stderr
    assert (written / "SKILL.md").exists()
    gone = nanobot("-w", ws, "skills", "delete", recipe.name)
    assert gone.returncode == 0 and "Deleted the learned recipe" in gone.stdout
    assert learner.book.load() == {}
    missing = nanobot("-w", ws, "skills", "show", recipe.name)
    assert missing.returncode == 1 and "no skill named" in missing.stderr
    assert nanobot("skills", "show").returncode == 2


def test_a_process_run_is_traced_with_its_own_check(nanobot_home: Path) -> None:
    run = nanobot("process", "run", "hanoi", "--disks", "3", "--sampler", "sim", "--sim-p",
                  "0.95", "--k", "2")
    assert run.returncode == 0, run.stderr
    (rec,) = [json.loads(line) for line in nanobot("traces", "--json").stdout.splitlines()]
    assert rec["kind"] == "process" and rec["category"] == "process-hanoi"
    assert rec["status"] == "finished" and rec["steps"] == 7  # 2^3 - 1 moves
    assert rec["success"] is True and rec["judged_by"] == "check"
    assert rec["process"] in run.stdout and rec["tokens"]["total"] > 0
    assert "✓ check" in nanobot("traces").stdout
    assert nanobot("traces", "verify").returncode == 0
