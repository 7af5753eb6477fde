"""Ingest and the glob/grep tools under odd ignore rules and leftovers of killed ingests."""

from __future__ import annotations

from pathlib import Path

from app.core.agent.cancel import CancelToken
from app.core.context_store.ignore_rules import IgnoreRules, compile_rules
from app.core.context_store.ingest import ingest
from app.core.context_store.volume import Volume
from app.core.tools.base import ToolContext
from app.core.tools.search import Glob, Grep

ODD_RULES = "a[]b\n[]]x\n[z-a]\n[!]\nfoo\\\n*.log\nbuild/\n!keep.log\n"


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, body in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    return root


def test_rules_git_accepts_never_crash_and_match_as_git_does() -> None:
    spec, bad = compile_rules(ODD_RULES)
    assert spec is not None
    rules = IgnoreRules((("", spec),))
    assert rules.ignored("x.log", False) and not rules.ignored("keep.log", False)
    assert rules.ignored("build", True) and not rules.ignored("build", False)
    assert rules.ignored("]x", False)  # "[]]x": a class holding "]"
    assert not rules.ignored("a]b", False) and not rules.ignored("z", False)
    assert len(bad) <= 2  # only lines git itself cannot use: they match nothing


def test_ingest_takes_odd_gitignore_lines(tmp_path: Path) -> None:
    proj = tree(tmp_path / "proj", {".gitignore": ODD_RULES, "a.py": "x = 1\n",
                                    "debug.log": "noise\n", "keep.log": "kept\n",
                                    "build/out.txt": "built\n"})
    report = ingest([proj], "odd", tmp_path / "vols")
    names = {f.path for f in Volume(tmp_path / "vols" / "odd").files}
    assert names == {"proj/a.py", "proj/keep.log"}
    assert report.ignored >= 2


def test_a_new_ingest_sweeps_what_killed_ones_left(tmp_path: Path) -> None:
    proj = tree(tmp_path / "proj", {"a.py": "x = 1\n"})
    vols = tmp_path / "vols"
    ingest([proj], "v", vols)
    current = (vols / "v").readlink()
    # What a killed re-ingest leaves: a half-written version directory and a half-made link.
    stale = vols / ".v.g7-4242-1700000000000"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "text.bin").write_bytes(b"x" * 4096)
    (vols / ".v.link-4242").symlink_to(stale.name)
    other = vols / ".vx.g1-1-1"  # another volume's: not ours to touch
    other.mkdir()
    ingest([proj], "v", vols)
    assert not stale.exists() and not (vols / ".v.link-4242").is_symlink()
    assert other.exists()
    assert (vols / "v").readlink() != current and (vols / "v").resolve().is_dir()
    assert [f.path for f in Volume(vols / "v").files] == ["proj/a.py"]


async def test_glob_and_grep_honour_gitignore(tmp_path: Path) -> None:
    ws = tree(tmp_path / "ws", {".gitignore": "build/\n*.log\n", "src/app.js": "needle\n",
                                "src/.gitignore": "gen.js\n", "src/gen.js": "needle\n",
                                "build/app.js": "needle\n", "run.log": "needle\n",
                                "a]b.txt": "needle\n"})
    ctx = ToolContext(workspace=ws, cancel=CancelToken())
    found = (await Glob().run({"pattern": "*.js"}, ctx)).content.splitlines()
    assert found == ["src/app.js"]
    hits = (await Grep().run({"pattern": "needle"}, ctx)).content.splitlines()
    assert sorted(h.split(":")[0] for h in hits) == ["a]b.txt", "src/app.js"]
    named = (await Glob().run({"pattern": "build/*.js"}, ctx)).content
    assert named == "build/app.js"  # asked for by name: searched all the same
    odd = await Glob().run({"pattern": "a[]b.txt"}, ctx)  # no crash on an empty class
    assert not odd.is_error
