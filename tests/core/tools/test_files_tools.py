from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.files import ListDir, ReadFile


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "a.txt").write_text("one\ntwo\nthree\n")
    (ws / "bin.dat").write_bytes(b"\x00\x01\x02")
    (tmp_path / "secret.txt").write_text("nope")
    os.symlink(tmp_path / "secret.txt", ws / "link")
    return ToolContext(workspace=ws, cancel=CancelToken())


async def test_read_and_lines(ctx: ToolContext) -> None:
    assert (await ReadFile().run({"path": "a.txt"}, ctx)).content == "one\ntwo\nthree\n"
    assert (await ReadFile().run({"path": "a.txt", "lines": "2:3"}, ctx)).content == "two\nthree"
    assert "binary file" in (await ReadFile().run({"path": "bin.dat"}, ctx)).content


@pytest.mark.parametrize("path", ["../secret.txt", "link", "/etc/passwd", "~/x", "sub/../../secret.txt"])
async def test_escapes_refused(ctx: ToolContext, path: str) -> None:
    with pytest.raises(ToolError, match="outside the workspace"):
        await ReadFile().run({"path": path}, ctx)


async def test_missing_and_bad_range(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not found"):
        await ReadFile().run({"path": "nope.txt"}, ctx)
    with pytest.raises(ToolError, match="bad line range"):
        await ReadFile().run({"path": "a.txt", "lines": "5:2"}, ctx)
    # Not a range at all (JSON a small model wrote into it): the whole file, with a note; an
    # error had the model send the same call again until the turn ended.
    out = (await ReadFile().run({"path": "a.txt", "lines": ":[1,2,3]}}\n{"}, ctx)).content
    assert out == "(lines=':[1,2,3]}}\\n{' is not a range like '10:50'; the whole file:)\none\ntwo\nthree\n"


async def test_list_dir(ctx: ToolContext) -> None:
    out = (await ListDir().run({}, ctx)).content.splitlines()
    assert out[0] == "sub/" and "a.txt" in out
