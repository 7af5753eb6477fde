"""Every file tool refuses every way out of the workspace, and nothing outside changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.edit import EditFile, WriteFile
from app.core.tools.files import ListDir, ReadFile
from app.core.tools.search import Glob, Grep

SECRET = "top secret outside the workspace\n"


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ToolContext:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "inside.txt").write_text("inside\n")
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "outdir").mkdir()
    (tmp_path / "outdir" / "secret.txt").write_text(SECRET)
    (tmp_path / "ws2").mkdir()  # a sibling sharing the workspace's name as a prefix
    (tmp_path / "ws2" / "secret.txt").write_text(SECRET)
    os.symlink(tmp_path / "secret.txt", ws / "link_file")
    os.symlink(tmp_path / "outdir", ws / "link_dir")
    os.symlink(ws / "link_file", ws / "link_chain")  # a link to a link that leaves
    os.symlink(tmp_path / "missing-target", ws / "dangling_out")
    os.symlink("..", ws / "sub" / "up")  # relative link to the parent: still inside
    monkeypatch.setenv("HOME", str(tmp_path / "outdir"))
    monkeypatch.setenv("OUTSIDE", str(tmp_path))
    return ToolContext(workspace=ws, cancel=CancelToken())


def escapes(tmp_path: Path) -> list[str]:
    return [
        "../secret.txt",
        "../../etc/passwd",
        "sub/../../secret.txt",
        "./sub/./../../secret.txt",
        "sub/up/../secret.txt",
        str(tmp_path / "secret.txt"),
        "/etc/passwd",
        "//etc/passwd",
        "/proc/self/root/etc/passwd",
        "~/secret.txt",
        "~root/.bashrc",
        "$HOME/secret.txt",
        "${OUTSIDE}/secret.txt",
        "link_file",
        "link_chain",
        "link_dir/secret.txt",
        "link_dir",
        "dangling_out",
        "%2e%2e/secret.txt",
        "%2E%2E%2Fsecret.txt",
        "..%2fsecret.txt",
        "%252e%252e%252fsecret.txt",
        "..\\secret.txt",
        "\uff0e\uff0e/secret.txt",  # fullwidth dots
        "file:///etc/passwd",
        str(tmp_path / "ws2" / "secret.txt"),
        "../ws2/secret.txt",
        "inside.txt\x00../secret.txt",
    ]


def calls(path: str) -> list[tuple[Any, dict[str, Any]]]:
    return [
        (ReadFile(), {"path": path}),
        (ReadFile(), {"path": path, "lines": "1:5"}),
        (ListDir(), {"path": path}),
        (WriteFile(), {"path": path, "content": "pwned\n"}),
        (EditFile(), {"path": path, "old_text": "top", "new_text": "pwned"}),
        (Glob(), {"pattern": "*", "path": path}),
        (Grep(), {"pattern": "secret", "path": path}),
    ]


def snapshot(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and "ws" not in p.relative_to(root).parts[:1]:
            out[str(p)] = p.read_bytes()
    return out


def test_there_are_at_least_twenty_escapes(tmp_path: Path) -> None:
    assert len(escapes(tmp_path)) >= 20


@pytest.mark.parametrize("index", range(28))
async def test_every_file_tool_refuses(ctx: ToolContext, tmp_path: Path, index: int) -> None:
    path = escapes(tmp_path)[index]
    before = snapshot(tmp_path)
    for tool, args in calls(path):
        with pytest.raises(ToolError, match=r"outside the workspace|NUL byte"):
            await tool.run(args, ctx)
    assert snapshot(tmp_path) == before  # nothing outside was read into a result or changed
    assert (tmp_path / "secret.txt").read_text() == SECRET


@pytest.mark.parametrize("pattern", ["../*", "../**/secret.txt", "/etc/*", "~/*", "sub/../../*",
                                     "%2e%2e/*", "..\\*", "C:\\Windows\\*"])
async def test_glob_patterns_cannot_climb_out(ctx: ToolContext, pattern: str) -> None:
    with pytest.raises(ToolError, match="refused"):
        await Glob().run({"pattern": pattern}, ctx)
    with pytest.raises(ToolError, match="refused"):
        await Grep().run({"pattern": "secret", "glob": pattern}, ctx)


async def test_walks_do_not_follow_links_out(ctx: ToolContext) -> None:
    found = (await Glob().run({"pattern": "**"}, ctx)).content
    assert "inside.txt" in found and "secret" not in found
    grep = (await Grep().run({"pattern": "top secret"}, ctx)).content
    assert grep.startswith("no matches")


async def test_links_that_stay_inside_still_work(ctx: ToolContext) -> None:
    assert (await ReadFile().run({"path": "sub/up/inside.txt"}, ctx)).content == "inside\n"
    # A literal percent sign in a name is fine when its decoded reading stays inside too.
    (ctx.workspace / "100%25.txt").write_text("percent\n")
    assert (await ReadFile().run({"path": "100%25.txt"}, ctx)).content == "percent\n"
    written = await WriteFile().run({"path": "new/dir/file.txt", "content": "x"}, ctx)
    assert "Created new/dir/file.txt" in written.content
