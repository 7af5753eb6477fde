"""The layering of docs/ARCHITECTURE.md holds (tests/layering.py), and each rule fails when a
forbidden import (or a Session built outside the factory) is planted in a copy of the tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.layering import imports, package_graph, violations

ROOT = Path(__file__).resolve().parents[1]


def test_the_tree_follows_the_layering() -> None:
    assert violations(ROOT) == []


def test_the_graph_points_down_the_layers() -> None:
    graph = package_graph(imports(ROOT))
    assert "app.runtime" in graph["app.tui"] and "widgets" in graph["app.tui"]
    assert not [p for p in graph if p.startswith("app.core") and {
        "app.tui", "app.cli", "app.runtime", "widgets"} & set(graph[p])]


def copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    for top in ("app", "widgets", "themes"):
        shutil.copytree(ROOT / top, root / top, ignore=shutil.ignore_patterns("__pycache__"))
    return root


PLANTS = [
    ("app/core/agent/events.py", "from app.tui.app import NanobotApp\n",
     "app.core must not import app.tui"),
    ("app/core/context/tokens.py", "import widgets.flash\n", "app.core must not import widgets"),
    ("app/runtime/sessions.py", "from app.tui import slash\n",
     "app.runtime must not import app.tui"),
    ("app/runtime/sessions.py", "import textual.app\n", "imports textual; only"),
    ("widgets/flash.py", "from app.core.agent.session import Session\n",
     "app.core.agent.session.Session is a class, not a value type"),
    ("widgets/flash.py", "from app.core.providers.scripted import ScriptedProvider\n",
     "ScriptedProvider is a class, not a value type"),
    ("widgets/flash.py", "from app.tui.slash import commands\n", "widgets must not import app.tui"),
    ("app/runtime/build.py", "from app.cli import main\n",
     "import cycle between packages: app.cli → app.runtime → app.cli"),
    ("app/cli/run.py", "def _sneaky(p):\n    from app.core.agent.session import Session\n"
                       "    return Session(p)\n",
     "a Session is constructed outside app/runtime/factory.py"),
]


@pytest.mark.parametrize(("path", "line", "expected"), PLANTS)
def test_a_planted_violation_is_caught(tmp_path: Path, path: str, line: str,
                                       expected: str) -> None:
    # The copy equals the tree, which test_the_tree_follows_the_layering finds clean.
    root = copy_tree(tmp_path)
    target = root / path
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    found = violations(root)
    assert any(expected in v and (path in v or "cycle" in v) for v in found), found
