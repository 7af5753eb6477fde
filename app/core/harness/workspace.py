"""What exists in the workspace: files, folders and top-level symbols, and a compact map of them.

Small models invent files, classes and values they cannot see ("the class in models.py is
`Model`"). The index lists what is really there (``.gitignore`` respected), extracts each source
file's top-level definitions, and renders a ranked map that fits a token budget, in the spirit of
aider's repo map: files named in the request first, then files defining symbols the request names,
then files the others refer to, then the rest by depth. The index is rebuilt only when a file's
size or mtime changed, so the system prompt (and with it llama.cpp's prompt cache) stays stable.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.context_store.ignore import WalkReport, walk_tree
from app.core.settings.paths import get_paths

MAX_FILES = 3000  # a bigger tree is indexed up to here (the map says so)
MAX_SYMBOL_BYTES = 400_000  # larger files are listed without their symbols
SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".c",
                   ".h", ".cpp", ".hpp", ".rb", ".php", ".sh", ".kt", ".swift", ".cs"}
DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".md", ".json", ".toml", ".yaml", ".yml", ".ini",
                 ".cfg", ".log"}
# Top-level definitions in languages without a parser here: one regex per family, anchored at
# the start of a line so nested definitions stay out.
_DEF_RE = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:pub\s+)?(?:"
    r"(?:function|class|interface|struct|enum|trait|type|fn|func|def|module)\s+([A-Za-z_]\w*)|"
    r"(?:const|let|var)\s+([A-Za-z_]\w*)\s*=)", re.MULTILINE)
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TEXT_WORD_RE = re.compile(r"[A-Za-z][a-z]{2,}|[A-Z]{3,}")  # words, and the parts of snake/Camel


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, with "/"
    size: int
    lines: int
    symbols: tuple[str, ...] = ()  # "class Item", "def load_items(path)", "TIMEOUT = 37"
    imports: tuple[str, ...] = ()  # module names a Python file imports (for ranking)
    # The words of the file (lowercase, 3+ letters), for "is this request about the workspace";
    # None when the file was too big or binary to read.
    words: frozenset[str] | None = None


@dataclass
class WorkspaceIndex:
    root: Path
    files: dict[str, FileEntry] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    truncated: bool = False
    _stamps: dict[str, tuple[int, int]] = field(default_factory=dict)  # rel → (size, mtime)

    # --- building ----------------------------------------------------------------------------

    @classmethod
    def build(cls, root: Path) -> WorkspaceIndex:
        index = cls(root.resolve())
        index.refresh()
        return index

    def _scan(self) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        report = WalkReport()
        own = _own_dirs(self.root)
        try:
            for p in walk_tree(self.root, report):
                if own and any(p.is_relative_to(d) for d in own):
                    continue
                try:
                    st = p.stat()
                except OSError:
                    continue
                out.append((p.relative_to(self.root).as_posix(), st.st_size, st.st_mtime_ns))
                if len(out) >= MAX_FILES:
                    self.truncated = True
                    break
        except OSError:
            pass
        return out

    def refresh(self) -> bool:
        """Re-read what changed; True when anything did."""
        stamps = {rel: (size, mtime) for rel, size, mtime in self._scan()}
        if stamps == self._stamps:
            return False
        files: dict[str, FileEntry] = {}
        for rel, stamp in stamps.items():
            prev = self.files.get(rel)
            same = prev is not None and self._stamps.get(rel) == stamp
            files[rel] = prev if same and prev is not None else _entry(self.root / rel, rel,
                                                                       stamp[0])
        self.files = files
        self.dirs = {str(Path(rel).parent.as_posix()) for rel in files} - {"."}
        for d in list(self.dirs):  # parents of nested folders
            parts = d.split("/")
            self.dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        self._stamps = stamps
        return True

    # --- queries -----------------------------------------------------------------------------

    def file_paths(self) -> list[str]:
        return sorted(self.files)

    def dir_paths(self) -> list[str]:
        return sorted(self.dirs)

    def defines(self, name: str) -> list[str]:
        """Files with a top-level definition called ``name``."""
        out = []
        for rel, entry in self.files.items():
            if any(_symbol_name(s) == name for s in entry.symbols):
                out.append(rel)
        return sorted(out)

    def mentioned_files(self, text: str) -> list[str]:
        """Files ``text`` names: by relative path, or by a file name that is unique here."""
        found: list[str] = []
        by_name: dict[str, list[str]] = {}
        for rel in self.files:
            by_name.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
        for token in re.findall(r"[\w./-]+", text):
            token = token.strip("./-") if not token.startswith(".") else token.rstrip(".,")
            token = token.removeprefix("./")
            if not token:
                continue
            if token in self.files:
                hit = [token]
            else:
                hit = by_name.get(token, [])
                if len(hit) != 1:
                    hit = [r for r in self.files if r.endswith("/" + token)] if "/" in token else []
            if len(hit) == 1 and hit[0] not in found:
                found.append(hit[0])
        return found

    def mentioned_symbols(self, text: str) -> dict[str, list[str]]:
        """Identifiers in ``text`` that some file defines → those files."""
        names = {w for w in _WORD_RE.findall(text) if len(w) > 2}
        out: dict[str, list[str]] = {}
        for rel, entry in self.files.items():
            for s in entry.symbols:
                n = _symbol_name(s)
                if n in names:
                    out.setdefault(n, []).append(rel)
        return out

    def topic_hits(self, topics: set[str]) -> tuple[set[str], set[str]]:
        """Which ``topics`` (content words of a request, see ``claims.topic_words``) the workspace
        has: (in a file or folder name or a top-level name, in some file's text). A word counts
        when it or its first five letters start a word here ("maintain" → "Maintainer")."""
        named: set[str] = set()
        for rel, entry in self.files.items():
            named.update(w.lower() for w in _TEXT_WORD_RE.findall(rel))
            for sym in entry.symbols:
                named.update(w.lower() for w in _TEXT_WORD_RE.findall(sym))
        text: set[str] = set()
        for entry in self.files.values():
            if entry.words:
                text |= entry.words
        return _hits(topics, named), _hits(topics, text)

    def related_files(self, topics: set[str], limit: int) -> list[str]:
        """The files a request that names none is most likely about: those holding at least half
        of its content words (in their name, top-level names or text), best first by how rare
        the words they hold are here. Retrieval, not the model, finds them: a 0.5B model asked
        "Who maintains this project?" answers from its system prompt instead of looking."""
        if not topics or limit <= 0:
            return []
        hits: dict[str, set[str]] = {}
        for rel, entry in self.files.items():
            words = {w.lower() for w in _TEXT_WORD_RE.findall(rel)}
            for sym in entry.symbols:
                words.update(w.lower() for w in _TEXT_WORD_RE.findall(sym))
            found = _hits(topics, words | set(entry.words or ()))
            if found:
                hits[rel] = found
        df: dict[str, int] = {}
        for found in hits.values():
            for t in found:
                df[t] = df.get(t, 0) + 1
        need = max(1, -(-len(topics) // 2))
        n = len(self.files)
        scored = [(sum(math.log(1 + n / df[t]) for t in found), rel)
                  for rel, found in hits.items() if len(found) >= need]
        return [rel for _score, rel in sorted(scored, key=lambda x: (-x[0], x[1]))[:limit]]

    @property
    def fully_read(self) -> bool:
        """Whether every file's words are known (not cut at the file limit or a file's size)."""
        return not self.truncated and all(e.words is not None for e in self.files.values())

    # --- the map -----------------------------------------------------------------------------

    def ranked(self, request: str = "") -> list[str]:
        named = self.mentioned_files(request)
        by_symbol = [f for files in self.mentioned_symbols(request).values() for f in files]
        refs = self._reference_counts()
        rest = sorted(self.files, key=lambda r: (-refs.get(r, 0), r.count("/"), r))
        order: list[str] = []
        for rel in [*named, *by_symbol, *rest]:
            if rel not in order:
                order.append(rel)
        return order

    def _reference_counts(self) -> dict[str, int]:
        """How many files import each module (a cheap stand-in for aider's reference graph)."""
        modules = {rel.removesuffix(".py").replace("/", "."): rel for rel in self.files
                   if rel.endswith(".py")}
        counts: dict[str, int] = {}
        for entry in self.files.values():
            for mod in entry.imports:
                target = modules.get(mod)
                if target is not None and target != entry.path:
                    counts[target] = counts.get(target, 0) + 1
        return counts

    def render_map(self, budget_chars: int, request: str = "") -> str:
        """The map: one line per file (path, size, symbols), most relevant first, cut to fit."""
        lines: list[str] = []
        used = 0
        order = self.ranked(request)
        for n, rel in enumerate(order):
            line = _map_line(self.files[rel])
            if used + len(line) + 1 > budget_chars:
                short = f"{rel} ({self.files[rel].lines} lines)"
                if used + len(short) + 1 > budget_chars:
                    lines.append(f"… and {len(order) - n} more files")
                    break
                line = short
            lines.append(line)
            used += len(line) + 1
        if self.truncated:
            lines.append(f"(the workspace has more than {MAX_FILES} files; only these were indexed)")
        return "\n".join(lines)


def _symbol_name(symbol: str) -> str:
    m = re.match(r"(?:async def|def|class|function|fn|func|struct|enum|interface|trait|type|"
                 r"module|const|let|var)?\s*([A-Za-z_]\w*)", symbol)
    return m.group(1) if m else symbol


def _map_line(entry: FileEntry) -> str:
    head = f"{entry.path} ({entry.lines} line{'s' if entry.lines != 1 else ''})"
    if not entry.symbols:
        return head
    return f"{head}: " + "; ".join(entry.symbols)


def _entry(path: Path, rel: str, size: int) -> FileEntry:
    try:
        data = path.read_bytes() if size <= MAX_SYMBOL_BYTES else b""
    except OSError:
        return FileEntry(rel, size, 0)
    if b"\x00" in data[:8192]:
        return FileEntry(rel, size, 0, words=frozenset())
    text = data.decode("utf-8", errors="replace")
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    suffix = path.suffix.lower()
    symbols: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    if suffix == ".py":
        symbols = tuple(python_symbols(text))
        imports = tuple(sorted(set(re.findall(r"^\s*(?:from|import)\s+([\w.]+)", text,
                                              re.MULTILINE))))
    elif suffix in SOURCE_SUFFIXES:
        symbols = tuple(dict.fromkeys(a or b for a, b in _DEF_RE.findall(text)))[:20]
    elif suffix in (".csv", ".tsv") and text:
        symbols = (f"columns: {text.splitlines()[0][:100]}",)
    elif suffix == ".md":
        symbols = tuple(h.strip() for h in re.findall(r"^#{1,2} (.+)$", text, re.MULTILINE))[:4]
    words = (frozenset(w.lower() for w in _TEXT_WORD_RE.findall(text))
             if size <= MAX_SYMBOL_BYTES else None)
    return FileEntry(rel, size, lines, symbols, imports, words)


def python_symbols(text: str) -> Iterable[str]:
    """Top-level classes, functions (with their parameters) and constants of a Python file."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        yield from (f"def {n}" for n in re.findall(r"^def (\w+)", text, re.MULTILINE))
        return
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield f"class {node.name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            params = ", ".join(a.arg for a in node.args.args)
            yield f"def {node.name}({params})"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and node.targets[0].id.isupper():
            # A short literal value is shown, as a signature line would show it.
            value = ast.get_source_segment(text, node.value) or ""
            literal = isinstance(node.value, ast.Constant) and len(value) <= 40
            yield f"{node.targets[0].id} = {value}" if literal else node.targets[0].id


def _hits(topics: set[str], words: set[str]) -> set[str]:
    # Plurals as topic_words makes them ("notes" → "note").
    words = words | {w[:-1] for w in words if len(w) > 4 and w.endswith("s")}
    stems = {w[:5] for w in words if len(w) >= 5}
    return {t for t in topics if t in words or (len(t) >= 5 and t[:5] in stems)}


def _own_dirs(root: Path) -> list[Path]:
    """Nanobot's own data, state and cache folders when they lie inside the workspace (a
    ``NANOBOT_HOME`` in the project): its session logs hold the request being answered, and a
    read "for your request" of them answered the question with itself."""
    paths = get_paths()
    out = []
    for d in (paths.data_dir, paths.state_dir, paths.cache_dir):
        try:
            resolved = d.expanduser().resolve()
        except OSError:
            continue
        if resolved.is_relative_to(root):
            out.append(resolved)
    return out
