"""write_file, edit_file, glob and grep on real files; read_file on big files and bad input."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext, ToolError
from app.core.tools.edit import EditFile, WriteFile
from app.core.tools.files import ReadFile
from app.core.tools.search import Glob, Grep, glob_regex


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    ws = tmp_path / "ws"
    (ws / "pkg" / "deep").mkdir(parents=True)
    (ws / ".venv" / "lib").mkdir(parents=True)
    (ws / "app.py").write_text("def main():\n    print('hi')\n\n\nmain()\n")
    (ws / "pkg" / "util.py").write_text("VALUE = 1\n# TODO: more\n")
    (ws / "pkg" / "deep" / "x.py").write_text("import os\n")
    (ws / "pkg" / "notes.md").write_text("# Notes\nTODO: write docs\n")
    (ws / ".venv" / "lib" / "vendored.py").write_text("TODO: not ours\n")
    (ws / "blob.bin").write_bytes(b"\x00\x01TODO\x00")
    return ToolContext(workspace=ws, cancel=CancelToken())


async def test_write_creates_then_overwrites_with_a_diff(ctx: ToolContext) -> None:
    created = await WriteFile().run({"path": "hello.py", "content": "print('hi')\n"}, ctx)
    assert created.content.startswith("Created hello.py (1 lines")
    assert (ctx.workspace / "hello.py").read_text() == "print('hi')\n"
    again = await WriteFile().run({"path": "hello.py", "content": "print('bye')\n"}, ctx)
    assert "Overwrote hello.py" in again.content
    assert "-print('hi')" in again.content and "+print('bye')" in again.content
    same = await WriteFile().run({"path": "hello.py", "content": "print('bye')\n"}, ctx)
    assert "nothing changed" in same.content


async def test_write_keeps_the_file_mode(ctx: ToolContext) -> None:
    script = ctx.workspace / "run.sh"
    script.write_text("echo a\n")
    script.chmod(0o755)
    await WriteFile().run({"path": "run.sh", "content": "echo b\n"}, ctx)
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


async def test_write_refuses_a_directory(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="is a directory"):
        await WriteFile().run({"path": "pkg", "content": "x"}, ctx)


async def test_edit_exact_replace_shows_the_diff(ctx: ToolContext) -> None:
    tool = EditFile()
    args = {"path": "app.py", "old_text": "print('hi')", "new_text": "print('hello')"}
    preview = tool.preview(args, ctx)
    assert "-    print('hi')" in preview and "+    print('hello')" in preview
    assert "print('hi')" in (ctx.workspace / "app.py").read_text()  # a preview changes nothing
    result = await tool.run(args, ctx)
    assert result.content.startswith("Edited app.py (1 replacement)")
    assert "+    print('hello')" in result.content
    assert "print('hello')" in (ctx.workspace / "app.py").read_text()


async def test_edit_errors_the_model_can_act_on(ctx: ToolContext) -> None:
    tool = EditFile()
    with pytest.raises(ToolError, match=r"closest text is at line 2:\n   2:     print\('hi'\)"):
        await tool.run({"path": "app.py", "old_text": "print( 'hi' )", "new_text": "x"}, ctx)
    with pytest.raises(ToolError, match="not found"):
        await tool.run({"path": "app.py", "old_text": "nowhere", "new_text": "x"}, ctx)
    (ctx.workspace / "dup.txt").write_text("a = 1\nb\na = 1\n")
    with pytest.raises(ToolError, match=r"occurs 2 times .*lines 1, 3"):
        await tool.run({"path": "dup.txt", "old_text": "a = 1", "new_text": "c = 2"}, ctx)
    all_ = await tool.run({"path": "dup.txt", "old_text": "a = 1", "new_text": "c = 2",
                           "replace_all": True}, ctx)
    assert "2 replacements" in all_.content
    assert (ctx.workspace / "dup.txt").read_text() == "c = 2\nb\nc = 2\n"
    with pytest.raises(ToolError, match="binary"):
        await tool.run({"path": "blob.bin", "old_text": "TODO", "new_text": "x"}, ctx)
    with pytest.raises(ToolError, match=r"file not found.*write_file"):
        await tool.run({"path": "missing.py", "old_text": "a", "new_text": "b"}, ctx)
    with pytest.raises(ToolError, match="old_text is empty"):
        await tool.run({"path": "app.py", "old_text": "", "new_text": "b"}, ctx)


async def test_one_name_for_another_renames_every_whole_word_occurrence(ctx: ToolContext) -> None:
    (ctx.workspace / "report.py").write_text(
        "def format_row(x):\n    return x\n\n\nprint(format_row(1), format_rows)\n")
    result = await EditFile().run({"path": "report.py", "old_text": "format_row",
                                   "new_text": "render_row"}, ctx)
    assert result.content.startswith("Renamed format_row to render_row in report.py "
                                     "(2 occurrences)")
    text = (ctx.workspace / "report.py").read_text()
    assert "def render_row(x)" in text and "print(render_row(1), format_rows)" in text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes files whatever their mode")
async def test_permission_denied_is_a_clear_result(ctx: ToolContext) -> None:
    locked = ctx.workspace / "locked.txt"
    locked.write_text("x")
    locked.chmod(0)
    with pytest.raises(ToolError, match="permission denied"):
        await ReadFile().run({"path": "locked.txt"}, ctx)


async def test_read_file_ranges_stream_and_big_files_say_so(ctx: ToolContext) -> None:
    big = ctx.workspace / "big.log"
    big.write_text("".join(f"line {i}\n" for i in range(1, 200_001)))
    part = await ReadFile().run({"path": "big.log", "lines": "150000:150002"}, ctx)
    assert part.content == "line 150000\nline 150001\nline 150002"
    past = await ReadFile().run({"path": "big.log", "lines": "300000:300001"}, ctx)
    assert "has only 200000 lines" in past.content
    with pytest.raises(ToolError, match="directory"):
        await ReadFile().run({"path": "pkg"}, ctx)


def test_glob_regex_semantics() -> None:
    assert glob_regex("**/*.py").match("a/b/c.py") and glob_regex("**/*.py").match("c.py")
    assert not glob_regex("src/*.py").match("src/a/b.py")
    assert glob_regex("[!a]*.md").match("notes.md") and not glob_regex("[!a]*.md").match("a.md")


async def test_glob_by_name_any_depth_and_by_path(ctx: ToolContext) -> None:
    by_name = (await Glob().run({"pattern": "*.py"}, ctx)).content.splitlines()
    assert by_name == ["app.py", "pkg/util.py", "pkg/deep/x.py"]
    by_path = (await Glob().run({"pattern": "pkg/*.py"}, ctx)).content.splitlines()
    assert by_path == ["pkg/util.py"]
    venv = (await Glob().run({"pattern": ".venv/**/*.py"}, ctx)).content
    assert "vendored.py" in venv  # skipped folders are searched when named
    none = await Glob().run({"pattern": "*.rs"}, ctx)
    assert none.content.startswith("no files match")
    with pytest.raises(ToolError, match="pattern is required"):
        await Glob().run({"pattern": ""}, ctx)


async def test_grep_lists_matches_and_skips_binary_and_vendored(ctx: ToolContext) -> None:
    out = (await Grep().run({"pattern": "TODO"}, ctx)).content.splitlines()
    assert out == ["pkg/notes.md:2: TODO: write docs", "pkg/util.py:2: # TODO: more"]
    only_py = (await Grep().run({"pattern": "todo", "ignore_case": True, "glob": "*.py"},
                                ctx)).content
    assert only_py == "pkg/util.py:2: # TODO: more"
    in_file = (await Grep().run({"pattern": "print", "path": "app.py"}, ctx)).content
    assert in_file == "app.py:2:     print('hi')"


async def test_grep_takes_a_glob_given_as_its_path(ctx: ToolContext) -> None:
    # As a shell would: "pkg/*.md" is the Markdown files in pkg/, "**/*.py" every Python file.
    assert (await Grep().run({"pattern": "TODO", "path": "pkg/*.md"}, ctx)).content == (
        "pkg/notes.md:2: TODO: write docs")
    assert (await Grep().run({"pattern": "TODO", "path": "**/*.py"}, ctx)).content == (
        "pkg/util.py:2: # TODO: more")
    assert (await Grep().run({"pattern": "TODO", "path": "pkg/**/*.md"}, ctx)).content == (
        "pkg/notes.md:2: TODO: write docs")
    assert (await Grep().run({"pattern": "TODO", "path": "*.txt"}, ctx)).content.startswith(
        "no matches")


async def test_grep_says_it_does_not_compare_when_a_query_finds_nothing(
        ctx: ToolContext) -> None:
    out = (await Grep().run({"pattern": "VALUE < 12", "path": "pkg/util.py"}, ctx)).content
    assert out.startswith("no matches for 'VALUE < 12'") and "does not compare values" in out
    plain = (await Grep().run({"pattern": "VALUE = 2", "path": "pkg/util.py"}, ctx)).content
    assert plain == "no matches for 'VALUE = 2'"


async def test_grep_bad_regex_falls_back_to_literal(ctx: ToolContext) -> None:
    (ctx.workspace / "f.txt").write_text("call(x\n")
    out = (await Grep().run({"pattern": "call(x"}, ctx)).content
    assert "not a valid regular expression" in out and "f.txt:1: call(x" in out
