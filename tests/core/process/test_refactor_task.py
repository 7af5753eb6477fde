"""The refactor task on real git repositories and directories: places found by the rules, edits
voted and compiled, the output a patch series and a branch, the user's checkout untouched."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from app.core.process.audit import audit
from app.core.process.output import export
from app.core.process.samplers import SampleRequest
from app.core.process.task import Parsed, RedFlag, TaskError, make_task
from tests.cli.test_cli import nanobot
from tests.core.process.helpers import ScriptedSampler, make_runner, records, run

FILES = {
    "pkg/a.py": '''\
        class Base:
            def __init__(self):
                self.ready = True

            def m(self):
                return 1

            @classmethod
            def make(cls):
                return cls()


        class A(Base):
            def __init__(self):
                super(A, self).__init__()

            def m(self):
                return super(A, self).m() + 1

            @classmethod
            def make(cls):
                return super(A, cls).make()

            def nested(self):
                def inner():
                    return super(A, self).m()  # another scope: super() would not work here
                return inner()
        ''',
    "pkg/b.py": '''\
        from pkg.a import Base


        class B(Base):
            def __init__(self, x, y):
                super(B,
                      self).__init__()
                self.xy = (x, y)


        class C(B):
            def __init__(self):
                super(C, self).__init__(1, 2); super(C, self).m()
        ''',
    "pkg/plain.py": "VALUE = 1\n",
    "pkg/broken.py": "def broken(:\n    super(X, self).m()\n",
    "pkg/crlf.py": "class D:\r\n    def f(self):\r\n        return super(D, self).f()\r\n",
    "pkg/tail.py": "class E(dict):\n    def keys(self):\n        return super(E, self).keys()",
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(textwrap.dedent(text).encode() if "\r" not in text else text.encode())
    (root / "pkg" / "latin1.py").write_bytes(b"# caf\xe9\nclass F:\n    pass\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    return root


def _right(task: Any, req: SampleRequest) -> str:
    loc = task.locations[req.state[0]]
    return str(task.recipe.expected("".join(task.original(loc.path)), loc.start, loc.end))


def test_places_follow_the_rules_and_each_edit_is_judged(repo: Path, nanobot_home: Path) -> None:
    task = make_task("refactor", {"repo": str(repo)})
    places = [(loc.path, loc.start, loc.end) for loc in task.locations]
    # file by file, bottom-up inside a file; the nested scope and the broken file are left out;
    # the two calls on one line are one place, the call over two lines one place of two lines
    assert places == [("pkg/a.py", 22, 22), ("pkg/a.py", 18, 18), ("pkg/a.py", 15, 15),
                      ("pkg/b.py", 13, 13), ("pkg/b.py", 6, 7), ("pkg/crlf.py", 3, 3),
                      ("pkg/tail.py", 3, 3)]
    assert task.plan.skipped_counts == {"does not parse": 1, "not UTF-8": 1}
    assert task.params["rev"] == _git(repo, "rev-parse", "HEAD").strip()

    first = task.initial_state()
    prompt = task.prompt(first, None)
    assert prompt.user == ("File: pkg/a.py\nBefore:\n"
                           "        return super(A, cls).make()\nAfter:")
    assert prompt.grammar.startswith('root ::= "\\x20\\x20\\x20\\x20\\x20\\x20\\x20\\x20" ')
    assert "super(ClassName, self)" in prompt.system  # the same for every step

    def judge(text: str) -> Any:
        parsed = task.parse(text)
        return parsed if isinstance(parsed, RedFlag) else task.validate(first, parsed)

    good = judge("        return super().make()\n")
    assert not isinstance(good, RedFlag) and good.action == "        return super().make()"
    assert good.key == "return super ( ) . make ( )"  # votes count tokens, not layout
    assert good.next_state == (1, ((22, 22, "        return super().make()"),))
    respaced = judge("        return super( ).make( )")
    assert not isinstance(respaced, RedFlag) and respaced.key == good.key  # one candidate
    layout = judge("        return super(A,  cls).make()")
    assert isinstance(layout, RedFlag) and layout.detail == "the edit changes nothing but layout"
    for text, kind, why in [
        ("        return super(.make()", "invalid", "does not compile"),
        ("```python\n        return super().make()\n```", "format", "code fence"),
        ("return super().make()", "format", "indentation"),
        ("        return super(A, cls).make()", "invalid", "changes nothing"),
        ("   \n", "format", "empty"),
        ("        x = 1\n        y = 2\n        z = 3", "format", "3 lines for a place of 1"),
    ]:
        flag = judge(text)
        assert isinstance(flag, RedFlag) and flag.kind == kind and why in flag.detail, (text, flag)

    # a replayed state must be the one the places imply
    assert task.state_from_json(task.state_to_json(good.next_state)) == good.next_state
    with pytest.raises(TaskError, match="do not match"):
        task.state_from_json({"i": 1, "edits": []})


async def test_a_voted_run_writes_a_patch_series_and_a_branch_and_audits_clean(
        repo: Path, tmp_path: Path, nanobot_home: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD").strip()
    task = make_task("refactor", {"repo": str(repo)})

    def reply(req: SampleRequest) -> str:
        right = _right(task, req)
        if req.state[0] == 4:  # the two-line call: a different spelling of the same change
            return right.replace("super()", "super ()")
        # a sample that does not compile and one wrong edit that compiles, then the right ones
        return {0: right.replace("super()", "super("), 1: right.replace("super()", "super(object)")
                }.get(req.idx, right)

    runner, store = make_runner(tmp_path, task, [ScriptedSampler(reply)], k=2)
    outcome = await run(runner)
    assert outcome.status == "finished" and outcome.step == 7
    recs = records(store)
    decided = [r for r in recs if r["r"] == "d"]
    # each step: the edit that does not compile is flagged, the wrong one that compiles gets a
    # vote and loses 1 to 3; the spelled-differently step is decided by its own two votes
    assert [sorted(r["votes"].values()) for r in decided] == [[1, 3]] * 4 + [[2]] + [[1, 3]] * 2
    assert [(r["step"], r["flag"]) for r in recs if r["r"] == "f"] == [
        (s, "invalid") for s in (0, 1, 2, 3, 5, 6)]

    lines = export(store, task)
    assert lines[0].startswith("patches: ") and "(4 files, 7 of 7 places)" in lines[0]
    assert lines[1].startswith(f"branch: nanobot/p1 (4 commits on {head[:12]}")
    out = store.dir / "output"
    series = (out / "patches" / "series").read_text().split()
    assert series == ["0001-pkg_a.py.patch", "0002-pkg_b.py.patch", "0003-pkg_crlf.py.patch",
                      "0004-pkg_tail.py.patch"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["files_changed"] == 4 and summary["decided"] == 7

    # the user's checkout is untouched; the branch holds one commit per file on the base
    assert _git(repo, "rev-parse", "HEAD").strip() == head
    assert _git(repo, "status", "--porcelain") == ""
    log = _git(repo, "log", "--format=%s", f"{head}..nanobot/p1").split("\n")
    assert log[:4] == ["Use zero-argument super(): pkg/tail.py", "Use zero-argument super(): "
                       "pkg/crlf.py", "Use zero-argument super(): pkg/b.py",
                       "Use zero-argument super(): pkg/a.py"]

    # the patch series applies to a fresh checkout and gives the branch's tree, which compiles
    clone = tmp_path / "clone"
    _git(repo, "worktree", "add", "-q", str(clone), head)
    _git(clone, "apply", "--index", str(out / "all.patch"))
    assert _git(clone, "diff", "--cached", "--stat", "nanobot/p1") == ""
    for name in ("a", "b", "crlf", "tail"):
        source = (clone / "pkg" / f"{name}.py").read_bytes()
        compile(source, name, "exec")
        assert b"super(" not in source.replace(b"super()", b"").replace(b"super ()", b"") \
            or name == "a"
    a_text = (clone / "pkg" / "a.py").read_text()
    assert "return super(A, self).m()  # another scope" in a_text  # left alone, as it must be
    assert (clone / "pkg" / "crlf.py").read_bytes().count(b"\r\n") == 3  # line endings kept
    assert not (clone / "pkg" / "tail.py").read_bytes().endswith(b"\n")

    report = audit(store, task)
    assert report.decisions == 7 and report.errors == 0 and report.done and report.solver

    # export again (as every run's end does): same series, the branch replaced, not duplicated
    export(store, task)
    assert len(_git(repo, "log", "--format=%s", f"{head}..nanobot/p1").split()) > 0
    assert _git(repo, "rev-list", "--count", f"{head}..nanobot/p1").strip() == "4"


async def test_the_audit_finds_a_wrong_edit_that_compiled(repo: Path, tmp_path: Path,
                                                          nanobot_home: Path) -> None:
    task = make_task("refactor", {"repo": str(repo), "branch": "-"})

    def reply(req: SampleRequest) -> str:
        right = _right(task, req)
        return right.replace("super()", "super(object)") if req.state[0] == 1 else right

    runner, store = make_runner(tmp_path, task, [ScriptedSampler(reply)], k=2)
    assert (await run(runner)).status == "finished"
    report = audit(store, task)
    assert report.errors == 1 and report.first_errors[0]["step"] == 1
    lines = export(store, task)
    assert len(lines) == 1 and "branch" not in _git(repo, "branch", "--list", "nanobot/*")


def test_through_the_cli_with_a_directory_that_then_changes(repo: Path, tmp_path: Path,
                                                             nanobot_home: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    for name in ("a.py", "b.py"):
        (plain / name).write_bytes((repo / "pkg" / name).read_bytes())
    proc = nanobot("process", "run", "refactor", "--param", f"repo={plain}", "--sampler-from",
                   "tests.core.process.refactor_sim:make", "--k", "2", "--id", "ref1",
                   "--max-steps", "3")
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "process ref1: refactor" in proc.stdout and "3 of 5 places" in proc.stdout
    patch = (nanobot_home / "data" / "processes" / "ref1" / "output" / "all.patch").read_text()
    assert patch.count("+        return super().make()") == 1
    assert "branch:" not in proc.stdout  # a plain directory gets patches only

    (plain / "b.py").write_text((plain / "b.py").read_text() + "\n# edited meanwhile\n")
    resumed = nanobot("process", "resume", "ref1")
    assert resumed.returncode == 2 and "changed since this refactor started" in resumed.stderr

    status = nanobot("process", "status", "ref1")
    assert "refactor" in status.stdout and "3 of 5" in status.stdout


def test_refactor_parameters_are_checked(repo: Path) -> None:
    for params, expect in [({"repo": str(repo), "recipe": "regex"}, "pattern"),
                           ({"repo": str(repo), "recipe": "regex", "pattern": "x"}, "instruction"),
                           ({"repo": str(repo), "include": "*.rs"}, "no file"),
                           ({"repo": str(repo), "rev": "nope"}, "git rev-parse"),
                           ({"repo": str(repo / "pkg" / "a.py")}, "not a directory"),
                           ({"repo": str(repo), "recipe": "sed"}, "not one of")]:
        with pytest.raises(TaskError, match=expect):
            make_task("refactor", params)
    regex = make_task("refactor", {"repo": str(repo), "recipe": "regex",
                                   "pattern": r"^VALUE = ", "instruction": "rename VALUE to LIMIT",
                                   "replace": "LIMIT = "})
    assert [(loc.path, loc.start) for loc in regex.locations] == [("pkg/plain.py", 1)]
    answer = regex.validate(regex.initial_state(), Parsed("LIMIT = 1", None))
    assert not isinstance(answer, RedFlag)
    from app.core.process.oracle import oracle_for

    assert oracle_for(regex).action_at(regex, 0) == "LIMIT = 1"


def test_a_place_is_the_whole_statement_or_the_headers_expression() -> None:
    from app.core.process.tasks.refactor_plan import ZeroArgSuper

    text = textwrap.dedent('''\
        class G:
            def f(self):
                if super(G, self).f(
                        1):
                    return (super(G, self)
                            .g())
                x = [super(G, self).h()]
                with super(G, self).lock(), open("x"):
                    pass
                return 0
        ''')
    recipe = ZeroArgSuper()
    assert sorted(recipe.locate(text)) == [(3, 4), (5, 6), (7, 7), (8, 8)]
    assert recipe.expected(text, 5, 6) == "            return (super()\n                    .g())"
