"""File-tool attempts from the permissions probe: symlink races, FIFOs, long names, modes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.context_store.ingest import ingest
from app.core.context_store.store import VolumeStore
from app.core.policy.shell_words import literal_word
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.confined import has_openat2
from app.core.tools.edit import WriteFile
from app.core.tools.files import ListDir, ReadFile
from app.core.tools.search import Grep
from tests.core.policy.security_helpers import replay

HANG_GUARD = 60  # seconds; only a hang (the bug) comes near it


class Swapper:
    """Swaps ``ws/d`` between a real directory and a symlink to ``outside`` as fast as it can,
    as a second process racing the tools would."""

    def __init__(self, ws: Path, outside: Path) -> None:
        self.ws, self.outside = ws, outside
        self.stop = threading.Event()
        self.swaps = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        d, parked = self.ws / "d", self.ws / "d.parked"
        while not self.stop.is_set():
            try:
                os.rename(d, parked)
                os.symlink(self.outside, d)
                os.unlink(d)
                os.rename(parked, d)
                self.swaps += 1
            except OSError:
                continue

    def __enter__(self) -> Swapper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@pytest.fixture
def race(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "d").mkdir(parents=True)
    outside.mkdir()
    (ws / "d" / "f.txt").write_text("inside")
    (outside / "f.txt").write_text("SECRET-OUTSIDE")
    yield ws, outside


async def test_symlink_race_never_reads_outside(race: tuple[Path, Path]) -> None:
    ws, _ = race
    ctx = ToolContext(ws, CancelToken())
    tool = ReadFile()
    seen: set[str] = set()
    with Swapper(*race) as swapper:
        for _ in range(1500):
            try:
                seen.add((await tool.run({"path": "d/f.txt"}, ctx)).content)
            except ToolError as exc:
                seen.add(type(exc).__name__)
    assert swapper.swaps > 0
    assert "SECRET-OUTSIDE" not in seen and "inside" in seen


async def test_symlink_race_never_creates_outside(race: tuple[Path, Path]) -> None:
    ws, outside = race
    ctx = ToolContext(ws, CancelToken())
    tool = WriteFile()
    with Swapper(*race):
        for i in range(400):
            with contextlib.suppress(ToolError):
                await tool.run({"path": f"d/new{i}.txt", "content": "x"}, ctx)
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]


async def test_listing_through_a_swapped_directory_stays_inside(race: tuple[Path, Path]) -> None:
    ws, outside = race
    (outside / "only-outside.txt").write_text("x")
    ctx = ToolContext(ws, CancelToken())
    with Swapper(*race):
        for _ in range(500):
            try:
                listing = (await ListDir().run({"path": "d"}, ctx)).content
            except ToolError:
                continue
            assert "only-outside.txt" not in listing


async def test_fifos_and_devices_are_refused_not_waited_on(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    os.mkfifo(ws / "pipe")
    (ws / "a.txt").write_text("needle\n")
    run = await asyncio.wait_for(replay(ws, [("read_file", {"path": "pipe"}),
                                             ("grep", {"pattern": "needle"})]), HANG_GUARD)
    fifo, grep = run.attempts()
    assert fifo.verdict == "refused" and "not a regular file" in fifo.result.content
    assert grep.verdict == "allowed" and "a.txt:1: needle" in grep.result.content


async def test_a_long_file_name_is_a_tool_error(tmp_path: Path) -> None:
    name = "n" * 300 + ".txt"
    run = await replay(tmp_path / "ws", [("read_file", {"path": name}),
                                         ("write_file", {"path": name, "content": "x"})])
    for attempt in run.attempts():
        assert attempt.result.is_error
        assert "file name too long" in attempt.result.content
        assert "OSError" not in attempt.result.content and "Traceback" not in attempt.result.content


async def test_new_files_get_the_umask_mode_and_old_files_keep_theirs(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "private.txt").write_text("old")
    (ws / "private.txt").chmod(0o600)
    ctx = ToolContext(ws, CancelToken())
    old = os.umask(0o022)
    try:
        await WriteFile().run({"path": "hello.py", "content": "print('hi')\n"}, ctx)
        await WriteFile().run({"path": "sub/dir/x.py", "content": "x = 1\n"}, ctx)
        await WriteFile().run({"path": "private.txt", "content": "new"}, ctx)
    finally:
        os.umask(old)
    assert stat.S_IMODE((ws / "hello.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((ws / "sub" / "dir" / "x.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((ws / "sub").stat().st_mode) == 0o755
    assert stat.S_IMODE((ws / "private.txt").stat().st_mode) == 0o600
    assert (ws / "private.txt").read_text() == "new"


async def test_a_flipping_file_is_never_overwritten_by_a_denied_write(tmp_path: Path) -> None:
    """A preview that fails (the file is binary at that moment) refuses the call; one that works
    asks, and the user says no. Either way nothing is written."""
    ws = tmp_path / "ws"
    ws.mkdir()
    target = ws / "flip.dat"
    target.write_bytes(b"text\n")
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            target.write_bytes(b"\x00binary")
            target.write_bytes(b"text\n")

    thread = threading.Thread(target=flip, daemon=True)
    thread.start()
    try:
        run = await replay(ws, [("write_file", {"path": "flip.dat", "content": f"PWNED {i}"})
                                for i in range(40)])
    finally:
        stop.set()
        thread.join()
    verdicts = {a.verdict for a in run.attempts()}
    assert verdicts <= {"asked", "refused"}
    assert b"PWNED" not in target.read_bytes()


async def test_ctx_grep_end_of_text_anchor(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "a.txt").write_text("alpha\nbeta\n")
    ingest([src], "c", tmp_path / "vols")
    volume = VolumeStore(tmp_path / "vols").get("c").volume
    # A match at the very end of the text must not index past the last line.
    assert volume.grep(r"\Z", regex=True).total == 0
    assert [h.text for h in volume.grep(r"$", regex=True).hits] == ["alpha", "beta"]
    assert [h.file_line for h in volume.grep(r"beta\n\Z", regex=True).hits] == [2]


def test_the_fallback_walk_is_used_without_openat2() -> None:
    # Both paths exist; which one runs depends on the kernel. Say which, for the record.
    assert has_openat2() in (True, False)
    assert literal_word("x").fields == ("x",)


async def test_grep_skips_a_file_swapped_for_a_symlink(race: tuple[Path, Path]) -> None:
    ws, _ = race
    ctx = ToolContext(ws, CancelToken())
    with Swapper(*race):
        for _ in range(200):
            result = await Grep().run({"pattern": "SECRET|inside"}, ctx)
            assert "SECRET-OUTSIDE" not in result.content


def test_tool_blocks_show_control_characters_as_escapes() -> None:
    from widgets.block_render import printable, short_args

    assert printable("ok\x1b]0;owned\x07\r\n") == "ok\\x1b]0;owned\\x07\n"
    assert "\x1b" not in short_args({"command": "echo \x1b[2J"})
