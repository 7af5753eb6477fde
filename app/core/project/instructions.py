"""Project instructions: ``AGENTS.md`` (and ``CLAUDE.md``) added to the system prompt.

Read, in this order (general first, nearest last, so the most specific words are closest to the
conversation): ``AGENTS.md`` in the user's config dir, then every directory from the git root down
to the workspace (only the workspace when it is not in a git repository), each with its
``AGENTS.md`` and ``CLAUDE.md`` (one copy when both hold the same text).

They share a budget that scales with the model's window (a tenth of it, 256 to 8,192 tokens). When
they do not fit, the nearest files keep the room: a file that no longer fits is cut at a line
boundary with a note in the prompt saying so (and how to read the rest), and the cut is shown to
the user as a notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.context.tokens import estimate_tokens

NAMES = ("AGENTS.md", "CLAUDE.md")
MIN_BUDGET, MAX_BUDGET = 256, 8192
HEAD = ("# Project instructions\nThe user's standing instructions for this project "
        "(from AGENTS.md files). Follow them.")


def instruction_budget(window: int) -> int:
    return max(MIN_BUDGET, min(MAX_BUDGET, window // 10))


def git_root(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


def instruction_files(workspace: Path, config_dir: Path) -> list[Path]:
    """The files that apply to ``workspace``, general first."""
    workspace = workspace.resolve()
    root = git_root(workspace) or workspace
    dirs = [workspace, *[p for p in workspace.parents if root == p or root in p.parents]]
    out: list[Path] = []
    user = config_dir / "AGENTS.md"
    if user.is_file():
        out.append(user)
    for d in reversed(dirs):
        texts: set[str] = set()
        for name in NAMES:
            path = d / name
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if text and text not in texts:
                texts.add(text)
                out.append(path)
    return out


@dataclass(frozen=True)
class Part:
    path: Path
    label: str  # how the prompt and notices name it
    text: str
    tokens: int
    shown_tokens: int
    cut: bool
    readable: bool  # inside the workspace: read_file can show the rest


@dataclass
class Instructions:
    workspace: Path
    config_dir: Path
    files: list[Path] = field(default_factory=list)
    _texts: dict[Path, str] = field(default_factory=dict)

    @classmethod
    def load(cls, workspace: Path, config_dir: Path) -> Instructions:
        found = cls(workspace.resolve(), config_dir)
        found.reload()
        return found

    def reload(self) -> None:
        self.files = instruction_files(self.workspace, self.config_dir)
        self._texts = {}
        for path in self.files:
            try:
                self._texts[path] = path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue

    def _label(self, path: Path) -> str:
        if path.parent == self.config_dir:
            return f"{path.name} (your config dir)"
        try:
            rel = path.relative_to(self.workspace)
            return str(rel)
        except ValueError:
            return str(path)

    def parts(self, window: int) -> list[Part]:
        """Each file as it goes into a ``window``-token prompt (nearest first keeps its room)."""
        left = instruction_budget(window) - estimate_tokens(HEAD)
        chosen: dict[Path, Part] = {}
        for path in reversed(self.files):
            text = self._texts.get(path, "")
            if not text:
                continue
            tokens = estimate_tokens(text)
            shown, cut = text, False
            if tokens > left:
                shown, cut = _cut(text, max(0, left - 40)), True
            readable = self.workspace == path.parent or self.workspace in path.parents
            chosen[path] = Part(path, self._label(path), shown, tokens, estimate_tokens(shown),
                                cut, readable)
            left -= estimate_tokens(shown) + 40
            if left <= 0:
                left = 0
        return [chosen[p] for p in self.files if p in chosen]

    def section(self, window: int) -> str:
        """The system-prompt section for a ``window``-token model ("" without any file)."""
        parts = self.parts(window)
        if not parts:
            return ""
        blocks = [HEAD]
        for part in parts:
            body = part.text
            if part.cut:
                lines_shown = body.count("\n") + 1 if body else 0
                total = self._texts[part.path].count("\n") + 1
                rest = (f"read_file {part.label} from line {lines_shown + 1} for the rest"
                        if part.readable else "the rest is not shown")
                body += (f"\n[{part.label} is cut here for this model's context window: "
                         f"{lines_shown} of {total} lines shown; {rest}]")
            blocks.append(f"## {part.label}\n{body}" if body else
                          f"## {part.label}\n[not shown: no room left in this model's window]")
        return "\n\n".join(blocks)

    def notes(self, window: int) -> list[str]:
        """What the user should know: files cut or left out for lack of room."""
        out = []
        for part in self.parts(window):
            if part.cut:
                out.append(f"{part.label}: {part.tokens:,} tokens, cut to {part.shown_tokens:,} "
                           f"for this {window:,}-token window (the model is told it was cut)")
        return out


def _cut(text: str, tokens: int) -> str:
    """The longest run of whole lines of ``text`` within ``tokens``."""
    kept: list[str] = []
    used = 0
    for line in text.splitlines():
        cost = estimate_tokens(line + "\n")
        if used + cost > tokens:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept).rstrip()
