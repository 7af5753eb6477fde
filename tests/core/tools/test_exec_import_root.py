"""A plain pytest run that cannot import the workspace's own module is run once more with the
workspace on PYTHONPATH (as ``python -m pytest`` would); anything else is left as it ran."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.agent.cancel import CancelToken
from app.core.tools.base import ToolContext
from app.core.tools.shell import Exec

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"


def project(tmp_path: Path) -> ToolContext:
    ws = tmp_path / "ws"
    (ws / "tests").mkdir(parents=True)
    (ws / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (ws / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    return ToolContext(workspace=ws, cancel=CancelToken())


async def test_pytest_that_cannot_import_the_root_module_runs_again_with_it(
        tmp_path: Path) -> None:
    ctx = project(tmp_path)
    # -P: no current folder on the path, exactly what the pytest launcher does.
    command = f"{sys.executable} -P -m pytest -q -p no:cacheprovider tests/test_calc.py"
    first = await Exec()._run(command, ctx.workspace, ctx, limit=120)
    assert "No module named 'calc'" in first.content  # the failure the retry is for
    result = await Exec().run({"command": f"{command}"}, ctx)
    lines = result.content.splitlines()
    assert lines[-2].startswith("[The output above is of a second run with PYTHONPATH=., ")
    assert lines[-1] == "[exit code 1]"  # still last, where the harness reads it
    # So a repeat of this run is a test that fails, not a step to stop on.
    from app.core.harness.harness import _ran_and_failed

    assert _ran_and_failed(result.content)
    assert "No module named" not in result.content
    assert "test_add" in result.content and "1 failed" in result.content
    assert result.is_error  # the test itself fails: that is the answer, not an error to hide


async def test_other_commands_and_other_modules_are_not_run_again(tmp_path: Path) -> None:
    ctx = project(tmp_path)
    (ctx.workspace / "tests" / "test_other.py").write_text("import nowhere_module\n")
    missing = await Exec().run({"command": f"{sys.executable} -P -m pytest -q "
                                           "-p no:cacheprovider tests/test_other.py"}, ctx)
    assert "No module named 'nowhere_module'" in missing.content
    assert "a second run with PYTHONPATH" not in missing.content
    compound = await Exec().run({"command": f"echo x && {sys.executable} -P -m pytest -q "
                                            "-p no:cacheprovider tests/test_calc.py"}, ctx)
    assert "No module named 'calc'" in compound.content
    assert "a second run with PYTHONPATH" not in compound.content
    script = await Exec().run({"command": f"{sys.executable} -P -c 'import calc'"}, ctx)
    assert "No module named 'calc'" in script.content and "PYTHONPATH" not in script.content
