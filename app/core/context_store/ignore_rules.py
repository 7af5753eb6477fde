"""``.gitignore`` rules with git's own semantics, for every walk over the user's files.

Matching is ``pathspec``'s ``GitIgnoreSpec`` (git's wildmatch: ``**``, character classes,
negation, directory-only rules, anchoring) instead of a hand-made translation to regular
expressions, which crashed on lines git accepts (``a[]b``, ``[z-a]``). A line ``pathspec`` still
cannot compile matches nothing, as in git, and is counted so the caller can say so. Each
directory's ``.gitignore`` and ``.nanobotignore`` apply below it; a deeper file's rules win over
a shallower one's, and within a file the last matching line wins. Ingest (volumes) and the
``glob``/``grep`` tools use the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".nanobotignore")


def compile_rules(text: str) -> tuple[GitIgnoreSpec | None, list[str]]:
    """The spec for the lines of one ignore file, and the lines that could not be compiled."""
    good: list[str] = []
    bad: list[str] = []
    for line in text.splitlines():
        try:
            GitIgnoreSpec.from_lines([line])
        except Exception:  # re.error, GitIgnorePatternError, ValueError: all mean "no match"
            bad.append(line)
            continue
        good.append(line)
    spec = GitIgnoreSpec.from_lines(good)
    return (spec if len(spec) else None), bad


@dataclass(frozen=True)
class IgnoreRules:
    """The rules of every ignore file between a walk's root and one directory."""

    levels: tuple[tuple[str, GitIgnoreSpec], ...] = ()
    bad_lines: tuple[str, ...] = field(default=(), compare=False)  # "path: line" never used

    def with_dir(self, rel_dir: str, directory: Path) -> IgnoreRules:
        """These rules plus those of ``directory``'s own ignore files (``rel_dir`` from the root).

        An ignore file that cannot be read adds nothing (the walk reports the directory when it
        cannot list it): one unreadable corner never stops a walk.
        """
        levels = list(self.levels)
        bad = list(self.bad_lines)
        for name in IGNORE_FILES:
            f = directory / name
            try:
                if not f.is_file():
                    continue
                text = f.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            spec, rejected = compile_rules(text)
            bad += [f"{rel_dir + '/' if rel_dir else ''}{name}: {line}" for line in rejected]
            if spec is not None:
                levels.append((rel_dir, spec))
        if len(levels) == len(self.levels) and len(bad) == len(self.bad_lines):
            return self
        return IgnoreRules(tuple(levels), tuple(bad))

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether ``rel_path`` ('/'-separated, relative to the walk's root) is ignored."""
        verdict = False
        for base, spec in self.levels:
            if base:
                if not rel_path.startswith(base + "/"):
                    continue
                sub = rel_path[len(base) + 1:]
            else:
                sub = rel_path
            result = spec.check_file(sub + "/" if is_dir else sub)
            if result.include is not None:
                verdict = result.include
        return verdict
