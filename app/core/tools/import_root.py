"""pytest run from the workspace root cannot import the root's own modules.

``pytest tests/test_calc.py`` puts ``tests/`` on the import path (its default "prepend" mode), not
the folder it runs in, so ``from calc import add`` fails with ``ModuleNotFoundError`` although
``calc.py`` sits right there; ``python -m pytest`` works because ``-m`` adds the current folder.
A person reads the error and types the second form; a small model repeats the first. When a plain
pytest command fails that way for a module the run folder or the workspace root holds, the exec
tool runs it once more with that folder on ``PYTHONPATH`` and says so. Nothing else is retried:
a collection error means no test ran, so running again repeats nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from app.core.policy.shell_parse import parse

_MISSING = re.compile(r"ModuleNotFoundError: No module named '([A-Za-z_]\w*)")


def _is_pytest(argv: tuple[str, ...]) -> bool:
    prog = Path(argv[0]).name
    if prog in ("pytest", "py.test"):
        return True
    if not prog.startswith("python") or "-m" not in argv:
        return False
    at = argv.index("-m")
    return argv[at + 1:at + 2] == ("pytest",) and all(a.startswith("-") for a in argv[1:at])


def root_to_import(command: str, output: str, cwd: Path, workspace: Path) -> Path | None:
    """The folder to put on PYTHONPATH for a second run, or None (no retry)."""
    if "ModuleNotFoundError" not in output:
        return None
    script = parse(command)
    if script.error or script.features or len(script.commands) != 1:
        return None  # one plain command only: a retry must not repeat anything else
    argv = script.commands[0].argv
    if not argv or not _is_pytest(argv):
        return None
    names = set(_MISSING.findall(output))
    for folder in dict.fromkeys((cwd, workspace)):
        for name in names:
            if (folder / f"{name}.py").is_file() or (folder / name).is_dir():
                return folder
    return None


def note(folder: Path, workspace: Path) -> str:
    """What the retry did, said after its output: put first, "could not import" was taken for
    the answer (asked which test fails, the 1.5B model replied that pytest could not import a
    module)."""
    rel = folder.relative_to(workspace).as_posix() if folder != workspace else "."
    return (f"[The output above is of a second run with PYTHONPATH={rel}, as `python -m pytest` "
            f"would run it: the first could not import a module from {rel}, because pytest puts "
            "only the tests' folder on the import path.]")
