"""``nanobot ingest`` and ``nanobot search`` in a subprocess, as a user runs them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app.core.context_store import dense_status
from tests.cli.test_cli import nanobot


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body)
    return root


def test_ingest_then_search(tmp_path: Path) -> None:
    src = write(tmp_path / "docs", {"a.md": "Deploys run at 04:00 UTC.\n",
                                    "b/c.py": "RETRY_LIMIT = 7  # retry limit for uploads\n"})
    (src / "blob.bin").write_bytes(b"\x00\x01" * 500)
    proc = nanobot("ingest", str(src), "--name", "docs", "--no-embed")
    assert proc.returncode == 0, proc.stderr
    assert "Volume 'docs'" in proc.stdout and "2 files" in proc.stdout
    assert "Skipped: 1 binary" in proc.stdout
    assert "index" in proc.stderr  # progress went to stderr
    found = nanobot("search", "docs", "retry", "limit")
    assert found.returncode == 0, found.stderr
    assert "docs/b/c.py:1" in found.stdout and "RETRY_LIMIT = 7" in found.stdout
    again = nanobot("ingest", str(src), "--name", "docs", "--no-embed")
    assert "Updated: 0 read, 2 unchanged, 0 removed." in again.stdout
    listed = nanobot("volumes")
    assert listed.returncode == 0 and listed.stdout.startswith("docs: 2 files, 2 lines")
    assert nanobot("volumes", "--rm", "docs").stdout.strip() == "deleted volume 'docs'"
    gone = nanobot("volumes", "--rm", "docs")
    assert gone.returncode == 1 and "volume 'docs' not found" in gone.stderr
    assert nanobot("volumes").stdout.startswith("no volumes")


def test_bad_input_exits_1_with_a_message(tmp_path: Path) -> None:
    src = write(tmp_path / "docs", {"a.md": "keep me\n"})
    assert nanobot("ingest", str(src), "--name", "docs", "--no-embed").returncode == 0
    missing = nanobot("ingest", str(tmp_path / "nope"), "--name", "docs", "--no-embed")
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr
    other = write(tmp_path / "other", {"x.md": "x\n"})
    clash = nanobot("ingest", str(other), "--name", "docs", "--no-embed")
    assert clash.returncode == 1 and "already exists" in clash.stderr
    unknown = nanobot("search", "nodocs", "x")
    assert unknown.returncode == 1 and "no volume named 'nodocs'; volumes: docs" in unknown.stderr
    still = nanobot("search", "docs", "keep")
    assert still.returncode == 0 and "keep me" in still.stdout


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="as root, chmod 000 only binds with setpriv to drop the override")
def test_unreadable_file_is_listed_and_the_rest_ingested(tmp_path: Path) -> None:
    src = write(tmp_path / "docs", {"ok.md": "readable text\n", "secret.md": "hidden\n"})
    (src / "secret.md").chmod(0)
    args = ["ingest", str(src), "--name", "docs", "--no-embed"]
    if os.geteuid() == 0:  # drop root's permission override for the child, so chmod 000 binds
        import subprocess
        import sys

        proc = subprocess.run(
            ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search",
             sys.executable, "-m", "app", *args], capture_output=True, text=True,
            cwd=Path(__file__).resolve().parents[2], timeout=240)
    else:
        proc = nanobot(*args)
    assert proc.returncode == 0, proc.stderr
    assert "1 unreadable" in proc.stdout and "docs/secret.md: Permission denied" in proc.stdout
    assert "1 file," in proc.stdout


# The semantic extra is optional (CI installs only the test extra): skip when it is absent.
@pytest.mark.skipif(not dense_status.available(), reason="semantic extra not installed")
def test_embed_builds_the_semantic_index(tmp_path: Path) -> None:
    src = write(tmp_path / "docs", {"a.md": "Ilse lives beside the Eiffel Tower; the door code "
                                            "there is 2082663.\nThe build farm archived notes.\n"})
    assert nanobot("ingest", str(src), "--name", "docs", "--no-embed").returncode == 0
    proc = nanobot("embed", "docs")
    assert proc.returncode == 0, proc.stderr
    assert "Semantic index of 'docs': 1 sub-chunks" in proc.stdout
    found = nanobot("search", "docs", "which", "digits", "unlock", "her", "entrance")
    assert "[dense]" in found.stdout and "door code there is 2082663" in found.stdout


@pytest.mark.model
def test_ask_answers_from_a_volume_with_the_local_model(tmp_path: Path) -> None:
    lines = [f"log line {i}: worker {i % 7} finished batch {i * 13}" for i in range(3000)]
    lines[1777] = "One of the special magic numbers for lunar-quartz-58 is: 6120934."
    src = write(tmp_path / "logs", {"run.log": "\n".join(lines) + "\n"})
    assert nanobot("ingest", str(src), "--name", "logs", "--no-embed").returncode == 0
    proc = nanobot("ask", "logs", "What is the special magic number for lunar-quartz-58?")
    assert proc.returncode == 0, proc.stderr
    assert "6120934" in proc.stdout
    assert "Grepping logs" in proc.stderr and "Reading logs lines 1775-1781" in proc.stderr
