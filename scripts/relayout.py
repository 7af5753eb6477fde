#!/usr/bin/env python3
"""Move Nanobot's modules into the package layout, and rewrite references to the old names.

    python scripts/relayout.py --move [REPO]            git mv every file of MOVES, add the new
                                                         packages' __init__.py, then rewrite REPO
    python scripts/relayout.py --rewrite-only TREE...   rewrite files under each TREE in place

The rewrite changes, in every text file (``.py``, ``.md``, ``.toml``, ``Makefile``, ``.ci/*`` …):

- import statements: ``from app.core.session import Session``, ``import app.core.x``,
  ``from app import cli_run`` (becomes ``from app.cli import run as cli_run``, so the code that
  uses the bound name keeps working);
- dotted module names inside strings and comments: monkeypatch/mock targets (a string that is a
  whole dotted name), ``importlib`` strings, ``python -c`` code, ``:mod:`` roles, and any
  ``app.core.…`` or ``tests.…`` name;
- file paths in comments, docstrings and text files: ``app/core/session.py``, ``core/session.py``,
  ``app/screens/``, ``tests/ui/test_slash.py``.

It is idempotent: a name that already resolves in the new layout is left alone, so running it twice,
or on a branch that mixes old and new names, changes nothing the first run did not need. Branches
started before the move run, after rebasing onto it::

    python scripts/relayout.py --rewrite-only .

and then ``ruff check .`` / ``mypy`` as usual (the script sorts the imports it touched with ruff's
isort rule when ruff is installed). New files a branch added at an old location are not moved:
move them by hand to the package they belong to.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# The mapping: old path → new path. A path ending in "/" moves a whole directory.
# Order matters for --move: a directory move runs before moves into the directory it creates.
# ---------------------------------------------------------------------------------------------

MOVES: list[tuple[str, str]] = [
    # app/cli/: one module per command group; the package keeps ``main`` (nanobot = app.cli:main).
    ("app/cli.py", "app/cli/__init__.py"),
    ("app/cli_config.py", "app/cli/config.py"),
    ("app/cli_doctor.py", "app/cli/doctor.py"),
    ("app/cli_ingest.py", "app/cli/ingest.py"),
    ("app/cli_process.py", "app/cli/process.py"),
    ("app/cli_run.py", "app/cli/run.py"),
    ("app/cli_setup.py", "app/cli/setup.py"),
    ("app/cli_tui.py", "app/cli/tui.py"),
    # app/tui/: the Textual app and everything that wires it (with widgets/ and themes/, the only
    # code that imports Textual).
    ("app/tui.py", "app/tui/app.py"),
    ("app/bridge.py", "app/tui/bridge.py"),
    ("app/prompt_flow.py", "app/tui/prompt_flow.py"),
    ("app/session_ops.py", "app/tui/session_ops.py"),
    ("app/ui_models.py", "app/tui/model_ops.py"),
    ("app/actions.py", "app/tui/actions.py"),
    ("app/slash.py", "app/tui/slash.py"),
    ("app/panes.py", "app/tui/panes.py"),
    ("app/commands.py", "app/tui/commands.py"),
    ("app/commands_models.py", "app/tui/commands_models.py"),
    ("app/conversation_view.py", "app/tui/conversation_view.py"),
    ("app/transcript.py", "app/tui/transcript.py"),
    ("app/setup_app.py", "app/tui/setup_app.py"),
    ("app/screens/", "app/tui/screens/"),
    # app/runtime/: sessions assembled from config and flags, logging; no Textual.
    ("app/runtime.py", "app/runtime/build.py"),
    ("app/sessions.py", "app/runtime/sessions.py"),
    ("app/logs.py", "app/runtime/logs.py"),
    # app/core/agent/: the turn loop and what it is made of.
    ("app/core/session.py", "app/core/agent/session.py"),
    ("app/core/session_features.py", "app/core/agent/session_features.py"),
    ("app/core/hooks.py", "app/core/agent/hooks.py"),
    ("app/core/messages.py", "app/core/agent/messages.py"),
    ("app/core/events.py", "app/core/agent/events.py"),
    ("app/core/cancel.py", "app/core/agent/cancel.py"),
    ("app/core/nudges.py", "app/core/agent/nudges.py"),
    ("app/core/tool_selection.py", "app/core/agent/tool_selection.py"),
    ("app/core/coalesce.py", "app/core/agent/coalesce.py"),
    # app/core/wire/: canonical history ↔ what a model reads and writes.
    ("app/core/thread_repair.py", "app/core/wire/thread_repair.py"),
    ("app/core/render.py", "app/core/wire/render.py"),
    ("app/core/template_caps.py", "app/core/wire/template_caps.py"),
    ("app/core/tool_calls.py", "app/core/wire/tool_calls.py"),
    ("app/core/tool_args.py", "app/core/wire/tool_args.py"),
    ("app/core/think.py", "app/core/wire/think.py"),
    # app/core/context/: what fits in the window: compaction, the gate, token estimates.
    ("app/core/compaction.py", "app/core/context/compaction.py"),
    ("app/core/compaction_tiers.py", "app/core/context/compaction_tiers.py"),
    ("app/core/summarizer.py", "app/core/context/summarizer.py"),
    ("app/core/context_gate.py", "app/core/context/context_gate.py"),
    ("app/core/tokens.py", "app/core/context/tokens.py"),
    # app/core/swarm/: workers, their tree, status injection, the spawn tool.
    ("app/core/swarm.py", "app/core/swarm/swarm.py"),
    ("app/core/worker.py", "app/core/swarm/worker.py"),
    ("app/core/status.py", "app/core/swarm/status.py"),
    ("app/core/swarm_events.py", "app/core/swarm/events.py"),
    ("app/core/tools/spawn.py", "app/core/swarm/spawn.py"),
    # app/core/policy/: who may run what, and what never leaves.
    ("app/core/permissions.py", "app/core/policy/permissions.py"),
    ("app/core/redact.py", "app/core/policy/redact.py"),
    ("app/core/tools/shell_policy.py", "app/core/policy/shell_policy.py"),
    # app/core/store/: files on disk: the event log, session files, pending messages.
    ("app/core/event_log.py", "app/core/store/event_log.py"),
    ("app/core/session_store.py", "app/core/store/session_store.py"),
    ("app/core/pending.py", "app/core/store/pending.py"),
    # app/core/settings/: config files and where things live.
    ("app/core/config.py", "app/core/settings/config.py"),
    ("app/core/config_edit.py", "app/core/settings/config_edit.py"),
    ("app/core/tool_config.py", "app/core/settings/tool_config.py"),
    ("app/core/paths.py", "app/core/settings/paths.py"),
    # app/core/providers/: + the router and the stack that puts them together.
    ("app/core/router.py", "app/core/providers/router.py"),
    ("app/core/provider_stack.py", "app/core/providers/stack.py"),
    # app/core/models/: + /model logic, doctor and setup planning (hardware and model choices).
    ("app/core/model_commands.py", "app/core/models/commands.py"),
    ("app/core/doctor.py", "app/core/models/doctor.py"),
    ("app/core/setup_plan.py", "app/core/models/setup_plan.py"),
    # app/core/tools/: + the labels every tool event gets.
    ("app/core/tool_labels.py", "app/core/tools/labels.py"),
    # tests mirror the source packages.
    ("tests/ui/", "tests/tui/"),
    ("tests/snapshots/", "tests/tui/snapshots/"),
    ("tests/test_cli.py", "tests/cli/test_cli.py"),
    ("tests/test_cli_ingest.py", "tests/cli/test_ingest.py"),
    ("tests/test_cli_permissions.py", "tests/cli/test_permissions.py"),
    ("tests/test_cli_tui.py", "tests/cli/test_tui.py"),
    ("tests/models/test_hardware.py", "tests/core/models/test_hardware_snapshot.py"),
    ("tests/models/", "tests/core/models/"),
    ("tests/providers/", "tests/core/providers/"),
    ("tests/core/test_agent_real_model.py", "tests/core/agent/test_agent_real_model.py"),
    ("tests/core/test_coalesce.py", "tests/core/agent/test_coalesce.py"),
    ("tests/core/test_session.py", "tests/core/agent/test_session.py"),
    ("tests/core/test_session_steer.py", "tests/core/agent/test_session_steer.py"),
    ("tests/core/test_small_model_harness.py", "tests/core/agent/test_small_model_harness.py"),
    ("tests/core/compaction_helpers.py", "tests/core/context/compaction_helpers.py"),
    ("tests/core/test_compaction.py", "tests/core/context/test_compaction.py"),
    ("tests/core/test_compaction_tiers.py", "tests/core/context/test_compaction_tiers.py"),
    ("tests/core/test_context_gate.py", "tests/core/context/test_context_gate.py"),
    ("tests/core/test_context_store.py", "tests/core/context_store/test_context_store.py"),
    ("tests/core/test_ctx_tools.py", "tests/core/context_store/test_ctx_tools.py"),
    ("tests/core/test_dense.py", "tests/core/context_store/test_dense.py"),
    ("tests/core/test_niah_model.py", "tests/core/context_store/test_niah_model.py"),
    ("tests/core/test_hardware.py", "tests/core/models/test_hardware.py"),
    ("tests/core/test_doctor.py", "tests/core/models/test_doctor.py"),
    ("tests/core/test_model_commands.py", "tests/core/models/test_model_commands.py"),
    ("tests/core/test_quirks.py", "tests/core/models/test_quirks.py"),
    ("tests/core/test_permissions.py", "tests/core/policy/test_permissions.py"),
    ("tests/core/test_llama_inprocess.py", "tests/core/providers/test_llama_inprocess.py"),
    ("tests/core/test_openai_http.py", "tests/core/providers/test_openai_http.py"),
    ("tests/core/test_openai_prefill.py", "tests/core/providers/test_openai_prefill.py"),
    ("tests/core/test_replay.py", "tests/core/providers/test_replay.py"),
    ("tests/core/test_router.py", "tests/core/providers/test_router.py"),
    ("tests/core/test_config.py", "tests/core/settings/test_config.py"),
    ("tests/core/test_config_edit.py", "tests/core/settings/test_config_edit.py"),
    ("tests/core/test_crash_log.py", "tests/core/store/test_crash_log.py"),
    ("tests/core/test_event_log.py", "tests/core/store/test_event_log.py"),
    ("tests/core/test_pending.py", "tests/core/store/test_pending.py"),
    ("tests/core/test_session_store.py", "tests/core/store/test_session_store.py"),
    ("tests/core/swarm_helpers.py", "tests/core/swarm/swarm_helpers.py"),
    ("tests/core/test_status.py", "tests/core/swarm/test_status.py"),
    ("tests/core/test_swarm.py", "tests/core/swarm/test_swarm.py"),
    ("tests/core/test_swarm_permissions.py", "tests/core/swarm/test_swarm_permissions.py"),
    ("tests/core/test_worker_real_model.py", "tests/core/swarm/test_worker_real_model.py"),
    ("tests/core/test_edit_search_tools.py", "tests/core/tools/test_edit_search_tools.py"),
    ("tests/core/test_escapes.py", "tests/core/tools/test_escapes.py"),
    ("tests/core/test_exec.py", "tests/core/tools/test_exec.py"),
    ("tests/core/test_files_tools.py", "tests/core/tools/test_files_tools.py"),
    ("tests/core/test_web_tools.py", "tests/core/tools/test_web_tools.py"),
    ("tests/core/template_set.py", "tests/core/wire/template_set.py"),
    ("tests/core/test_render.py", "tests/core/wire/test_render.py"),
    ("tests/core/test_think.py", "tests/core/wire/test_think.py"),
    ("tests/core/test_thread_repair.py", "tests/core/wire/test_thread_repair.py"),
    ("tests/core/test_tool_calls.py", "tests/core/wire/test_tool_calls.py"),
    ("tests/core/test_narration_score.py", "tests/bench/test_narration_score.py"),
]

# Packages the move creates that no moved file provides an __init__.py for: path → docstring.
NEW_PACKAGES: dict[str, str] = {
    "app/tui": "The Textual app: the App, the bridge from core events, prompt flow, registries, screens.",
    "app/runtime": "Sessions assembled from config and command-line flags, and logging. No Textual here.",
    "app/core/agent": "The turn loop: session, messages, events, hooks, cancellation, nudges.",
    "app/core/wire": "Canonical history to and from what a model reads and writes: templates, tool calls.",
    "app/core/context": "What goes into the window: compaction, the context gate, token estimates.",
    "app/core/swarm": "Workers: the tree, budgets, status injection, the spawn tool.",
    "app/core/policy": "Who may run what (permissions, the shell policy) and what never leaves (redaction).",
    "app/core/store": "Files on disk: the event log, session files, pending messages.",
    "app/core/settings": "Configuration files and the directories Nanobot uses.",
    "tests/cli": "",
    "tests/bench": "",
    "tests/core/agent": "",
    "tests/core/context": "",
    "tests/core/context_store": "",
    "tests/core/policy": "",
    "tests/core/settings": "",
    "tests/core/store": "",
    "tests/core/swarm": "",
    "tests/core/tools": "",
    "tests/core/wire": "",
}

ROOT_PACKAGES = ("app", "tests")
# Never rewritten: this file (it holds the old names), recorded data and images.
SKIP_SUFFIXES = (".svg", ".json", ".jsonl", ".gguf", ".png", ".jpg", ".whl", ".lock", ".jinja", ".tcss")
TEXT_NAMES = ("Makefile",)
TEXT_SUFFIXES = (".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".sh", ".yml", ".yaml", ".rst")


# ---------------------------------------------------------------------------------------------
# Names: modules and paths, old and new.
# ---------------------------------------------------------------------------------------------

def module_of(path: str) -> str:
    """``app/core/x.py`` → ``app.core.x``; ``app/cli/__init__.py`` and ``app/screens/`` → packages."""
    p = path.rstrip("/")
    if p.endswith("/__init__.py"):
        p = p[: -len("/__init__.py")]
    elif p.endswith(".py"):
        p = p[:-3]
    return p.replace("/", ".")


@dataclass
class Layout:
    old_modules: dict[str, str] = field(default_factory=dict)   # old dotted → new dotted
    new_modules: set[str] = field(default_factory=set)          # every new module/package name
    old_files: dict[str, str] = field(default_factory=dict)     # old file path → new file path
    old_dirs: dict[str, str] = field(default_factory=dict)      # old dir (no slash) → new dir

    @classmethod
    def build(cls, repo: Path | None = None) -> Layout:
        lay = cls()
        for old, new in MOVES:
            if old.endswith("/"):
                lay.old_dirs[old.rstrip("/")] = new.rstrip("/")
            else:
                lay.old_files[old] = new
            if old.endswith("/") or old.endswith(".py"):
                lay.old_modules[module_of(old)] = module_of(new)
                lay.new_modules.add(module_of(new))
        for pkg in NEW_PACKAGES:
            lay.new_modules.add(module_of(pkg + "/"))
        for name in list(lay.new_modules):
            parts = name.split(".")
            for i in range(1, len(parts)):
                lay.new_modules.add(".".join(parts[:i]))
        if repo is not None:
            # Modules that exist now and are not old names (e.g. a file a branch added under a new
            # package) count as new, so the rewrite never "moves" them.
            for root in ROOT_PACKAGES:
                for f in (repo / root).rglob("*.py") if (repo / root).is_dir() else []:
                    mod = module_of(f.relative_to(repo).as_posix())
                    if mod not in lay.old_modules:
                        lay.new_modules.add(mod)
        lay.check()
        return lay

    def check(self) -> None:
        """No new name may itself be an old name with another target (a second run would move it)."""
        for old, new in self.old_modules.items():
            again = self.old_modules.get(new)
            assert again is None or again == new, f"{old} → {new}, but {new} is moved again"
        olds = list(self.old_files) + [d + "/" for d in self.old_dirs]
        news = list(self.old_files.values()) + [d + "/" for d in self.old_dirs.values()]
        for n in news:
            for o in olds:
                assert not (n == o or n.startswith(o.rstrip("/") + "/")), f"new path {n} is under old {o}"

    def _longest(self, parts: list[str], names: set[str] | dict[str, str]) -> int:
        for i in range(len(parts), 0, -1):
            if ".".join(parts[:i]) in names:
                return i
        return 0

    def resolve(self, dotted: str, *, bare: bool = False, then: list[str] | None = None) -> str | None:
        """The new spelling of ``dotted`` (a module, or a module then attributes), or None if unchanged.

        A name whose longest known prefix is a new module is already new. The one ambiguous case is
        an old module that became a package of the same name (``app.tui``, ``app.runtime``,
        ``app.core.swarm``): followed by an attribute that is not a new submodule it is old; alone
        (``import app.tui``, prose) it is the package, unless ``bare`` says a ``from … import``
        means the old module: ``from app import tui``, or ``from app.tui import NanobotApp`` where
        ``then`` (the imported names) holds no new submodule.
        """
        parts = dotted.split(".")
        p = self._longest(parts, self.old_modules)
        if p == 0:
            return None
        key = ".".join(parts[:p])
        target = self.old_modules[key]
        if target == key:
            return None
        q = self._longest(parts, self.new_modules)
        if q > p:
            return None
        if q == p and len(parts) == p:
            if not bare:
                return None
            if then and any(f"{key}.{n}" in self.new_modules for n in then):
                return None
        return ".".join([target, *parts[p:]])

    def resolve_path(self, path: str) -> str | None:
        """The new spelling of a repository path (``app/x.py``, ``app/screens/``, ``core/x.py``)."""
        short = path.startswith("core/")
        full = "app/" + path if short else path
        trail = "/" if full.endswith("/") else ""
        full = full.rstrip("/")
        new: str | None = None
        if full in self.old_files:
            new = self.old_files[full]
        else:
            for old, moved in sorted(self.old_dirs.items(), key=lambda kv: -len(kv[0])):
                if full == old or full.startswith(old + "/"):
                    new = moved + full[len(old):]
                    break
        if new is None:
            return None
        if short:
            if not new.startswith("app/core/"):
                return None
            new = new[len("app/"):]
        return new + trail


# ---------------------------------------------------------------------------------------------
# Rewriting text.
# ---------------------------------------------------------------------------------------------

DOTTED = re.compile(r"(?<![\w.])((?:app|tests)(?:\.\w+)+)")
PATH = re.compile(r"(?<![\w/.\-])((?:app|tests|core)(?:/[\w.\-]+)+/?)")
SPHINX = re.compile(r":(?:mod|class|func|meth|attr|data|obj|exc):`~?$")
IMPORT_KW = re.compile(r"\b(?:from|import)\s+$")


def rewrite_dotted_in_text(text: str, lay: Layout, *, whole: bool = False) -> str:
    """Rewrite module names inside prose, a string literal or a comment.

    Top-level names (``app.bridge``) are rewritten only where the context says "module" (a whole
    string, a Sphinx role, an import, backticks), since ``app.bridge`` is also an attribute of an
    App instance named ``app``. A name alone that is both an old module and a new package of the
    same name (``app.tui``) stays: in new text it means the package.
    """

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        before = text[max(0, m.start() - 16): m.start()]
        is_whole = whole and m.start() == 0 and (m.end() == len(text) or text[m.end()] == ":")
        means_module = bool(is_whole or SPHINX.search(before) or IMPORT_KW.search(before))
        if not (means_module or before.endswith("`") or name.startswith(("app.core.", "tests."))):
            return name
        new = lay.resolve(name)
        return new if new is not None else name

    return DOTTED.sub(sub, text)


def rewrite_paths_in_text(text: str, lay: Layout) -> str:
    def sub(m: re.Match[str]) -> str:
        raw = m.group(1)
        core, tail = raw, ""
        while core.endswith(".") and not core.endswith("/."):
            core, tail = core[:-1], "." + tail
        new = lay.resolve_path(core)
        return (new + tail) if new is not None else raw

    return PATH.sub(sub, text)


def rewrite_prose(text: str, lay: Layout) -> str:
    return rewrite_paths_in_text(rewrite_dotted_in_text(text, lay), lay)


def _line_offsets(src: str) -> list[int]:
    offs, pos = [0], 0
    for line in src.splitlines(keepends=True):
        pos += len(line)
        offs.append(pos)
    return offs


def _abs(src_lines: list[str], offs: list[int], lineno: int, col_bytes: int) -> int:
    line = src_lines[lineno - 1]
    col = len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))
    return offs[lineno - 1] + col


def _fmt_from(module: str, names: list[tuple[str, str | None]], indent: str) -> str:
    items = [n if a is None or a == n else f"{n} as {a}" for n, a in names]
    if len(items) > 1 and any(" as " in i for i in items):
        # isort keeps aliased names one per statement; write them that way from the start.
        return f"\n{indent}".join(_fmt_from(module, [na], indent) for na in names)
    one = f"from {module} import {', '.join(items)}"
    if len(indent) + len(one) <= 110:
        return one
    inner = ",\n".join(f"{indent}    {i}" for i in items)
    return f"from {module} import (\n{inner},\n{indent})"


def rewrite_import(node: ast.Import | ast.ImportFrom, segment: str, indent: str, lay: Layout) -> str | None:
    if isinstance(node, ast.Import):
        changed, parts = False, []
        for a in node.names:
            new = lay.resolve(a.name)
            changed |= new is not None
            name = new or a.name
            parts.append(name if a.asname is None else f"{name} as {a.asname}")
        return f"import {', '.join(parts)}" if changed else None

    if node.level or not node.module:
        return None
    module = node.module
    names = [(a.name, a.asname) for a in node.names]
    # First the names that are themselves moved modules (``from app import cli_run``).
    keep: list[tuple[str, str | None]] = []
    moved: dict[str, list[tuple[str, str | None]]] = {}
    for n, a in names:
        full = f"{module}.{n}"
        new = lay.resolve(full, bare=True) if full in lay.old_modules else None
        if new is not None and "." in new:
            parent, leaf = new.rsplit(".", 1)
            bound = a or n
            moved.setdefault(parent, []).append((leaf, bound if bound != leaf else None))
        else:
            keep.append((n, a))
    new_module = lay.resolve(module, bare=True, then=[n for n, _ in keep]) if keep else None
    if not moved and new_module is None:
        return None
    if not moved and new_module is not None:
        # Only the module changes: keep the statement's own formatting.
        return re.sub(rf"^from\s+{re.escape(module)}\b", f"from {new_module}", segment, count=1)
    stmts: list[str] = []
    if keep:
        stmts.append(_fmt_from(new_module or module, keep, indent))
    for parent, items in moved.items():
        if parent == (new_module or module) and stmts:
            stmts[0] = _fmt_from(new_module or module, keep + items, indent)
            continue
        stmts.append(_fmt_from(parent, items, indent))
    return ("\n" + indent).join(stmts)


IMPORT_LINE = re.compile(r"^(\s*)((?:from|import)\s[^\n]*)$")


def rewrite_lines(src: str, lay: Layout) -> str:
    """A file Python cannot parse (conflict markers, say): one-line imports, then prose."""
    out = []
    for line in src.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = IMPORT_LINE.match(body)
        stmt = m.group(2).split("#", 1)[0].rstrip() if m else ""
        try:
            node = ast.parse(stmt).body[0] if stmt else None
        except SyntaxError:
            node = None
        if m and isinstance(node, ast.Import | ast.ImportFrom):
            new = rewrite_import(node, stmt, m.group(1), lay)
            if new is not None:
                line = m.group(1) + new + body[len(m.group(1)) + len(stmt):] + line[len(body):]
            out.append(line)
        else:
            out.append(rewrite_prose(line, lay))
    return "".join(out)


def rewrite_python(src: str, lay: Layout) -> str:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return rewrite_lines(src, lay)
    lines = src.splitlines(keepends=True)
    offs = _line_offsets(src)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and node.end_lineno is not None:
            start = _abs(lines, offs, node.lineno, node.col_offset)
            end = _abs(lines, offs, node.end_lineno, node.end_col_offset or 0)
            line = lines[node.lineno - 1]
            indent = line[: len(line) - len(line.lstrip())]
            new = rewrite_import(node, src[start:end], indent, lay)
            if new is not None and new != src[start:end]:
                edits.append((start, end, new))
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError):
        toks = []
    in_imports = [(s, e) for s, e, _ in edits]
    for tok in toks:
        if tok.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        start = offs[tok.start[0] - 1] + tok.start[1]
        end = offs[tok.end[0] - 1] + tok.end[1]
        if any(s <= start < e for s, e in in_imports):
            continue
        text = src[start:end]
        if tok.type == tokenize.COMMENT:
            new = rewrite_prose(text, lay)
        else:
            m = re.match(r"(?is)^([rbuf]*)('''|\"\"\"|'|\")", text)
            if not m:
                continue
            head, quote = m.group(0), m.group(2)
            body = text[len(head): len(text) - len(quote)]
            new_body = rewrite_dotted_in_text(body, lay, whole=True)
            if len(quote) == 3:
                new_body = rewrite_paths_in_text(new_body, lay)
            new = head + new_body + quote
        if new != text:
            edits.append((start, end, new))
    for start, end, new in sorted(edits, reverse=True):
        src = src[:start] + new + src[end:]
    return src


def is_text_file(path: Path) -> bool:
    if path.name == Path(__file__).name or path.suffix in SKIP_SUFFIXES:
        return False
    if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
        return True
    return path.parent.name == ".ci" and path.suffix == ""


def tree_files(tree: Path) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=tree,
                             capture_output=True, text=True, check=True).stdout
        files = [tree / f for f in out.split("\0") if f]
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = [f for f in tree.rglob("*") if ".venv" not in f.parts and ".git" not in f.parts]
    return [f for f in files if f.is_file() and is_text_file(f)]


def rewrite_tree(tree: Path, lay: Layout) -> list[Path]:
    changed: list[Path] = []
    for f in tree_files(tree):
        try:
            old = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = rewrite_python(old, lay) if f.suffix == ".py" else rewrite_prose(old, lay)
        if new != old:
            f.write_text(new, encoding="utf-8")
            changed.append(f)
    py = [str(f) for f in changed if f.suffix == ".py"]
    ruff = shutil.which("ruff", path=str(tree / ".venv" / "bin")) or shutil.which("ruff")
    if py and ruff:
        # The new names sort differently; let ruff's isort rule put the touched imports in order.
        subprocess.run([ruff, "check", "--select", "I", "--fix", "--quiet", *py], cwd=tree, check=False)
    return changed


# ---------------------------------------------------------------------------------------------
# Moving files.
# ---------------------------------------------------------------------------------------------

PARENTS = re.compile(r"(Path\(__file__\)\.resolve\(\)\.parents\[)(\d+)(\])")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True)


def move(repo: Path) -> None:
    for old, new in MOVES:
        src, dst = repo / old.rstrip("/"), repo / new.rstrip("/")
        if not src.exists():
            print(f"skip (missing): {old}")
            continue
        is_dir = src.is_dir()
        moved_py = [p.relative_to(src) for p in src.rglob("*.py")] if is_dir else [Path()]
        if is_dir and dst.is_dir():
            # The directory exists already (a file moved into it first): move the children.
            for child in sorted(src.iterdir()):
                if child.name == "__pycache__":
                    continue
                if (dst / child.name).exists():
                    sys.exit(f"refusing to overwrite {dst / child.name}")
                git(repo, "mv", str(child.relative_to(repo)), str((dst / child.name).relative_to(repo)))
            shutil.rmtree(src, ignore_errors=True)  # only ignored leftovers (__pycache__) remain
        else:
            if dst.exists():
                sys.exit(f"refusing to overwrite {new}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            git(repo, "mv", old.rstrip("/"), new.rstrip("/"))
        # A file that moved to another depth keeps pointing at the same ancestor directory.
        for rel in moved_py:
            before = (src / rel) if is_dir else src
            after = (dst / rel) if is_dir else dst
            delta = len(after.relative_to(repo).parts) - len(before.relative_to(repo).parts)
            if delta and after.suffix == ".py":
                text = after.read_text(encoding="utf-8")
                fixed = PARENTS.sub(lambda m, d=delta: f"{m.group(1)}{int(m.group(2)) + d}{m.group(3)}", text)
                if fixed != text:
                    after.write_text(fixed, encoding="utf-8")
    for pkg, doc in NEW_PACKAGES.items():
        init = repo / pkg / "__init__.py"
        if not init.exists():
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(f'"""{doc}"""\n' if doc else "", encoding="utf-8")
            git(repo, "add", str(init.relative_to(repo)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--move", action="store_true", help="git mv the files, then rewrite the repo")
    mode.add_argument("--rewrite-only", action="store_true", help="only rewrite references")
    ap.add_argument("trees", nargs="*", default=["."], help="repository root(s) or directories")
    args = ap.parse_args(argv)
    for t in args.trees:
        tree = Path(t).resolve()
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=tree, capture_output=True,
                             text=True).stdout.strip()
        repo = Path(top) if top else tree
        if args.move:
            move(repo)
        lay = Layout.build(repo)
        changed = rewrite_tree(tree, lay)
        for f in changed:
            print(f"rewrote {f.relative_to(tree)}")
        print(f"{len(changed)} file(s) rewritten under {tree}")
        # Modules left where the old layout had them (a file a branch added): move them by hand.
        stray = [f for d in ("app", "app/core") for f in sorted((repo / d).glob("*.py"))
                 if f.name not in ("__init__.py", "__main__.py")]
        for f in stray:
            print(f"note: {f.relative_to(repo)} is at an old-layout location; move it into a package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
