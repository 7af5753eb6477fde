"""Where a refactor reads the code, what it changes, and the list of places (the plan).

Sources: a git repository is read at one commit (never its working tree, so edits in progress do
not leak into the change, and the output can be a branch on that commit); a plain directory is
read as it is and fingerprinted by content, so a resume notices if it changed.

Recipes find the places (locations: a run of whole lines, found by the rules, never by the model)
and may know the right edit of each (an oracle for calibration and the audit). The model makes
every edit; the recipe's answer is only ever used to score it afterwards.

The plan (the ordered locations) is cached by (parameters, source fingerprint), because finding
the places in a large codebase takes a while and every command that opens the process needs it.
Locations run file by file, bottom-up inside a file: an edit then never moves the lines of a
location still to come, so every location keeps its original line numbers.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app.core.process.task import TaskError
from app.core.settings.paths import atomic_write_text, get_paths

PLAN_VERSION = 1


# --- sources ---------------------------------------------------------------------------------------

class Source(Protocol):
    root: Path
    commit: str  # "" for a plain directory

    def paths(self) -> list[str]: ...

    def read(self, path: str) -> bytes: ...

    def fingerprint(self, paths: list[str]) -> str: ...

    def mode(self, path: str) -> str: ...


def git(root: Path, *args: str, data: bytes | None = None,
        env: dict[str, str] | None = None) -> bytes:
    proc = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise TaskError(f"git {' '.join(args[:3])} in {root}: "
                        f"{proc.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return proc.stdout


class GitSource:
    def __init__(self, root: Path, rev: str) -> None:
        self.root = root
        self.commit = git(root, "rev-parse", "--verify", f"{rev or 'HEAD'}^{{commit}}"
                          ).decode().strip()
        self._entries: dict[str, tuple[str, str]] = {}  # path -> (mode, blob)
        for entry in git(root, "ls-tree", "-r", "-z", "--full-tree", self.commit).split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, kind, blob = meta.decode().split()
            if kind == "blob" and mode in ("100644", "100755"):
                self._entries[name.decode("utf-8", "surrogateescape")] = (mode, blob)
        self._cache: dict[str, bytes] = {}

    def paths(self) -> list[str]:
        return sorted(self._entries)

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """Many blobs through one ``git cat-file --batch``."""
        want = [p for p in paths if p not in self._cache]
        if want:
            data = git(self.root, "cat-file", "--batch",
                       data="".join(self._entries[p][1] + "\n" for p in want).encode())
            pos = 0
            for p in want:
                header_end = data.index(b"\n", pos)
                size = int(data[pos:header_end].split()[2])
                self._cache[p] = data[header_end + 1:header_end + 1 + size]
                pos = header_end + 1 + size + 1
        return {p: self._cache[p] for p in paths}

    def read(self, path: str) -> bytes:
        if path not in self._entries:
            raise TaskError(f"{path} is not in commit {self.commit[:12]}")
        return self.read_many([path])[path]

    def fingerprint(self, paths: list[str]) -> str:
        return self.commit

    def mode(self, path: str) -> str:
        return self._entries[path][0]


class DirSource:
    SKIP_DIRS = frozenset({"__pycache__", "node_modules"})

    def __init__(self, root: Path) -> None:
        self.root = root
        self.commit = ""

    def paths(self) -> list[str]:
        out = []
        for top, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in self.SKIP_DIRS)
            for name in files:
                full = Path(top) / name
                if not full.is_symlink():
                    out.append(full.relative_to(self.root).as_posix())
        return sorted(out)

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        return {p: self.read(p) for p in paths}

    def fingerprint(self, paths: list[str]) -> str:
        digest = hashlib.sha256()
        for p in paths:
            digest.update(p.encode() + b"\0" + hashlib.sha256(self.read(p)).digest())
        return digest.hexdigest()

    def mode(self, path: str) -> str:
        return "100755" if os.access(self.root / path, os.X_OK) else "100644"


def open_source(root: Path, rev: str) -> Source:
    if (root / ".git").exists():
        return GitSource(root, rev)
    if rev:
        raise TaskError(f"rev={rev} needs a git repository, and {root} is not one")
    return DirSource(root)


def matches(path: str, patterns: list[str]) -> bool:
    for pat in patterns:
        if fnmatch.fnmatchcase(path, pat):
            return True
        if pat.startswith("**/") and fnmatch.fnmatchcase(path, pat[3:]):
            return True
    return False


# --- recipes ---------------------------------------------------------------------------------------

class Recipe(Protocol):
    name: str
    title: str  # a commit subject's first words
    instruction: str
    examples: tuple[tuple[str, str], ...]
    python: bool  # files must be Python: they are parsed to find places and compiled to check

    def locate(self, text: str) -> list[tuple[int, int]]: ...

    def expected(self, text: str, start: int, end: int) -> str | None: ...


def lines_of(text: str) -> list[str]:
    """Lines with their endings, split at "\n" only: the lines Python's tokenizer counts (a form
    feed or other separator that ``str.splitlines`` would split at stays inside its line)."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _line_offsets(data: bytes) -> list[int]:
    offsets = [0]
    for line in data.split(b"\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets


def _scope_walk(nodes: list[ast.stmt]) -> Any:
    """Nodes of a function body, not entering nested scopes (where ``super()`` would not see the
    method's class and first argument: nested functions, lambdas, classes, comprehensions)."""
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)
    stack: list[ast.AST] = [n for n in nodes if not isinstance(n, nested)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, nested))


_SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise,
           ast.Assert, ast.Delete)


def _whole_construct(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[int, int]:
    """The lines of the whole simple statement holding ``node`` (a place the model can read as a
    complete line of code), or of the outermost expression holding it inside a compound
    statement's header (an ``if``, a ``with``: never its block)."""
    top = node
    while isinstance(parents.get(top), ast.expr):
        top = parents[top]
    stmt = parents.get(top)
    if isinstance(stmt, _SIMPLE):
        top = stmt
    # ast.AST declares no positions; every node reached here is an expr or stmt, which has them.
    return top.lineno, top.end_lineno or top.lineno  # type: ignore[attr-defined]


class ZeroArgSuper:
    """``super(Class, self)`` inside a method of ``Class`` becomes ``super()`` (PEP 3135)."""

    name = "zero-arg-super"
    title = "Use zero-argument super()"
    instruction = ("replace each call super(ClassName, self) or super(ClassName, cls) with the "
                   "zero-argument form super(); the method called on it and its arguments stay "
                   "exactly as they are")
    examples: tuple[tuple[str, str], ...] = (
        ("        x = super(Foo, self).bar(1) + super(Foo, self).baz",
         "        x = super().bar(1) + super().baz"),
        ("    return super(Mapping, cls).__new__(cls, *args,\n"
         "                                          **kw)",
         "    return super().__new__(cls, *args,\n                                          **kw)"))
    python = True

    def calls(self, tree: ast.AST) -> list[ast.Call]:
        found = []
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if any(isinstance(d, ast.Name) and d.id == "staticmethod"
                       for d in fn.decorator_list):
                    continue
                params = fn.args.posonlyargs + fn.args.args
                if not params:
                    continue
                first = params[0].arg
                for node in _scope_walk(fn.body):
                    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                            and node.func.id == "super" and len(node.args) == 2
                            and not node.keywords
                            and isinstance(node.args[0], ast.Name) and node.args[0].id == cls.name
                            and isinstance(node.args[1], ast.Name) and node.args[1].id == first):
                        found.append(node)
        return found

    def locate(self, text: str) -> list[tuple[int, int]]:
        tree = ast.parse(text)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        return [_whole_construct(c, parents) for c in self.calls(tree)]

    def expected(self, text: str, start: int, end: int) -> str | None:
        data = text.encode("utf-8")
        offsets = _line_offsets(data)
        spans = []
        for c in self.calls(ast.parse(text)):
            if start <= c.lineno and (c.end_lineno or c.lineno) <= end:
                assert c.end_lineno is not None and c.end_col_offset is not None
                spans.append((offsets[c.lineno - 1] + c.col_offset,
                              offsets[c.end_lineno - 1] + c.end_col_offset))
        lo, hi = offsets[start - 1], offsets[end]
        chunk = data[lo:hi]
        for a, b in sorted(spans, reverse=True):  # ast column offsets are UTF-8 byte offsets
            chunk = chunk[:a - lo] + b"super()" + chunk[b - lo:]
        return normalize(chunk.decode("utf-8"))


class RegexRecipe:
    """Every line that matches ``pattern`` is a place; ``instruction`` says what to do there."""

    name = "regex"
    title = "Refactor"

    def __init__(self, pattern: str, instruction: str, replace: str | None,
                 examples: tuple[tuple[str, str], ...], python: bool) -> None:
        try:
            self.pattern = re.compile(pattern)
        except re.error as exc:
            raise TaskError(f"pattern {pattern!r}: {exc}") from exc
        if not instruction:
            raise TaskError("the regex recipe needs --param instruction=... (the change to make)")
        self.instruction = instruction
        self.replace = replace
        self.examples = examples
        self.python = python

    def locate(self, text: str) -> list[tuple[int, int]]:
        return [(n, n) for n, line in enumerate(text.split("\n"), 1)
                if self.pattern.search(line.rstrip("\r"))]

    def expected(self, text: str, start: int, end: int) -> str | None:
        if self.replace is None:
            return None
        lines = [line.rstrip("\r") for line in text.split("\n")[start - 1:end]]
        return normalize("\n".join(self.pattern.sub(self.replace, line) for line in lines))


def normalize(text: str) -> str:
    """The canonical form of a location's text: lines without trailing blanks, no blank tail."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def token_key(text: str) -> str:
    """Python tokens of ``text`` without layout: two spellings of one edit (line breaks and spaces
    inside brackets) are one candidate in the vote; comments count. "" when it does not tokenize."""
    import io
    import tokenize

    skip = {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
                  if t.type not in skip]
    except (tokenize.TokenError, SyntaxError):
        return ""
    return " ".join(tokens)


def compile_error(text: str, path: str) -> str:
    """"" when ``text`` compiles as Python, else the error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{getattr(exc, 'msg', str(exc))}" + (f" (line {line})" if line else "")
    return ""


# --- the plan --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Location:
    path: str
    start: int  # first line, 1-based
    end: int  # last line, inclusive


@dataclass
class Plan:
    commit: str
    fingerprint: str
    files: int  # files scanned
    locations: list[Location]
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> paths (first 20)
    skipped_counts: dict[str, int] = field(default_factory=dict)
    longest: int = 0  # characters in the longest place

    def to_json(self) -> dict[str, Any]:
        return {"version": PLAN_VERSION, "commit": self.commit, "fingerprint": self.fingerprint,
                "files": self.files, "skipped": self.skipped,
                "skipped_counts": self.skipped_counts, "longest": self.longest,
                "locations": [[loc.path, loc.start, loc.end] for loc in self.locations]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(data["commit"], data["fingerprint"], data["files"],
                   [Location(p, s, e) for p, s, e in data["locations"]], data["skipped"],
                   data["skipped_counts"], data["longest"])


def _skip(plan: Plan, reason: str, path: str) -> None:
    plan.skipped_counts[reason] = plan.skipped_counts.get(reason, 0) + 1
    listed = plan.skipped.setdefault(reason, [])
    if len(listed) < 20:
        listed.append(path)


def make_plan(source: Source, paths: list[str], recipe: Recipe, fingerprint: str,
              max_lines: int) -> Plan:
    plan = Plan(source.commit, fingerprint, len(paths), [])
    contents = source.read_many(paths) if hasattr(source, "read_many") else {
        p: source.read(p) for p in paths}
    for path in paths:
        try:
            text = contents[path].decode("utf-8")
        except UnicodeDecodeError:
            _skip(plan, "not UTF-8", path)
            continue
        if "\r" in text.replace("\r\n", ""):
            _skip(plan, "lone CR line endings", path)
            continue
        try:
            spans = recipe.locate(text)
        except (SyntaxError, ValueError):
            _skip(plan, "does not parse", path)
            continue
        if not spans:
            continue
        if recipe.python and compile_error(text, path):
            _skip(plan, "does not compile before the change", path)
            continue
        merged: list[list[int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        lines = lines_of(text)
        for a, b in reversed(merged):  # bottom-up: an edit never moves a place still to come
            if b - a + 1 > max_lines:
                _skip(plan, f"a place longer than {max_lines} lines", f"{path}:{a}-{b}")
                continue
            plan.locations.append(Location(path, a, b))
            plan.longest = max(plan.longest, sum(len(x) for x in lines[a - 1:b]))
    return plan


def cached_plan(key_data: dict[str, Any], build: Any) -> Plan:
    key = hashlib.sha256(json.dumps({**key_data, "v": PLAN_VERSION}, sort_keys=True).encode()
                         ).hexdigest()[:24]
    path = get_paths().cache_dir / "process-plans" / f"refactor-{key}.json"
    try:
        return Plan.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    plan: Plan = build()
    atomic_write_text(path, json.dumps(plan.to_json()) + "\n")
    return plan
