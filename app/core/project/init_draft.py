"""``/init``: draft an AGENTS.md for the workspace from what the project itself says.

The draft is built from the project's files, not by the model (a small local model would invent
commands): the README's first paragraph, the build and test commands that pyproject.toml,
package.json, Cargo.toml, go.mod and the Makefile declare, and the top-level layout. What only the
user knows (conventions, things to avoid) is left as a short list to fill in.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from app.core.settings.paths import atomic_write_text

SKIP_DIRS = {"node_modules", "venv", "build", "dist", "target", "__pycache__", "site-packages"}
MAX_DIRS = 12


def _readme_summary(ws: Path) -> str:
    for name in ("README.md", "README.rst", "README.txt", "README"):
        path = ws / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for para in re.split(r"\n\s*\n", text):
            line = " ".join(para.split())
            if line and not line.startswith(("#", "=", "-", "[!", "<", "![", "```", ".. ")):
                return line[:400]
    return ""


def _python(ws: Path, commands: list[str], facts: list[str]) -> None:
    path = ws / "pyproject.toml"
    if not path.is_file():
        return
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return
    project = data.get("project", {})
    need = project.get("requires-python")
    facts.append(f"Python project{f' ({need})' if need else ''}, configured in pyproject.toml.")
    tool = data.get("tool", {})
    if "pytest" in tool or (ws / "tests").is_dir():
        commands.append("python -m pytest  # tests")
    if "ruff" in tool:
        commands.append("ruff check .  # lint")
    if "mypy" in tool:
        commands.append("mypy  # types")
    for script in list(project.get("scripts", {}))[:3]:
        facts.append(f"Command-line entry point: `{script}`.")


def _node(ws: Path, commands: list[str], facts: list[str]) -> None:
    path = ws / "package.json"
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return
    facts.append("JavaScript/TypeScript project (package.json).")
    runner = "pnpm" if (ws / "pnpm-lock.yaml").exists() else (
        "yarn" if (ws / "yarn.lock").exists() else "npm")
    for name in ("build", "test", "lint", "typecheck", "dev"):
        if name in data.get("scripts", {}):
            commands.append(f"{runner} run {name}" if name != "test" else f"{runner} test")


def _makefile(ws: Path, commands: list[str]) -> None:
    path = ws / "Makefile"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    targets = re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE)
    for t in dict.fromkeys(targets):
        if t in ("test", "check", "lint", "build", "run", "install", "fmt", "format"):
            commands.append(f"make {t}")


def _layout(ws: Path) -> list[str]:
    dirs = sorted(p.name for p in ws.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and p.name not in SKIP_DIRS and not (p / "pyvenv.cfg").exists())
    return [f"`{d}/`" for d in dirs[:MAX_DIRS]]


def draft(workspace: Path) -> str:
    """The AGENTS.md text for ``workspace``."""
    ws = workspace.resolve()
    commands: list[str] = []
    facts: list[str] = []
    _python(ws, commands, facts)
    _node(ws, commands, facts)
    if (ws / "Cargo.toml").is_file():
        facts.append("Rust project (Cargo.toml).")
        commands += ["cargo build", "cargo test"]
    if (ws / "go.mod").is_file():
        facts.append("Go module (go.mod).")
        commands += ["go build ./...", "go test ./..."]
    _makefile(ws, commands)
    lines = [f"# {ws.name}", ""]
    summary = _readme_summary(ws)
    if summary:
        lines += [summary, ""]
    lines += ["Instructions for coding agents working in this repository. Drafted by Nanobot's "
              "/init from the project's files: check it, then keep it short and true.", ""]
    if facts:
        lines += ["## Project", *[f"- {f}" for f in facts], ""]
    if commands:
        lines += ["## Commands", "```sh", *dict.fromkeys(commands), "```", ""]
    layout = _layout(ws)
    if layout:
        lines += ["## Layout", "- Top-level folders: " + ", ".join(layout) + ".", ""]
    lines += ["## Conventions",
              "- Run the tests and the linters above before saying a change is done.",
              "- Keep changes small and focused; match the style of the code around them.",
              "- (Add what only you know: naming, patterns to follow, things never to touch.)", ""]
    return "\n".join(lines)


def write_draft(workspace: Path, *, force: bool = False) -> tuple[Path, bool]:
    """Write the draft to AGENTS.md, or next to an existing one as AGENTS.draft.md (an existing
    file is never overwritten). Returns ``(path, created_agents_md)``."""
    target = workspace / "AGENTS.md"
    existing = target.exists() or (workspace / "CLAUDE.md").exists()
    if existing and not force:
        return target if target.exists() else workspace / "CLAUDE.md", False
    path = workspace / "AGENTS.draft.md" if existing else target
    atomic_write_text(path, draft(workspace))
    return path, not existing
