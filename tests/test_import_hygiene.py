"""The agent core must never import Textual or Rich: the CLI, the TUI and tests share it.

The runtime (sessions assembled from config, logging) is shared by the headless CLI too, so it
must not need Textual or Rich either.

The core is imported in a fresh interpreter where ``textual`` and ``rich`` cannot be imported at all,
which proves it needs neither. (Blocking them matters because httpx imports Rich for its own
optional command-line tool whenever Rich is installed; that import is httpx's, not ours, and httpx
works without it.)
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import app.core
import app.runtime

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('textual', 'rich'):
            raise ImportError(f'{name} is blocked: the core must not need it')
        return None
sys.meta_path.insert(0, Block())
"""


def core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(app.core.__path__, "app.core."))


def runtime_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(app.runtime.__path__, "app.runtime."))


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_core_has_modules() -> None:
    mods = core_modules()
    assert "app.core.agent.session" in mods and "app.core.providers.llama_inprocess" in mods


def test_core_imports_with_textual_and_rich_unavailable() -> None:
    code = BLOCKER + (
        "import importlib\n"
        f"for m in {core_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(k for k in sys.modules if k.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = run(code)
    assert proc.returncode == 0, f"core needs UI modules: {proc.stdout} {proc.stderr[-2000:]}"


def test_blocker_really_blocks() -> None:
    # The check above can fail: importing a UI module under the blocker is an error.
    proc = run(BLOCKER + "import rich.text\n")
    assert proc.returncode != 0 and "blocked" in proc.stderr


def test_core_never_pulls_in_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {core_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "sys.exit(1 if any(k.split('.')[0] == 'textual' for k in sys.modules) else 0)\n"
    )
    assert run(code).returncode == 0


def test_runtime_imports_with_textual_and_rich_unavailable() -> None:
    mods = runtime_modules()
    assert "app.runtime.build" in mods
    code = BLOCKER + (
        "import importlib\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
    )
    proc = run(code)
    assert proc.returncode == 0, f"runtime needs UI modules: {proc.stdout} {proc.stderr[-2000:]}"
