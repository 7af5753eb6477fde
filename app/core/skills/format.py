"""The skill file: ``skills/<name>/SKILL.md`` with YAML front matter, as Claude Code and Codex use.

    ---
    name: release-notes
    description: Write release notes from the git log since the last tag.
    ---
    1. Run `git describe --tags --abbrev=0` ...

``name`` (lowercase letters, digits and hyphens, at most 64) and ``description`` (at most 1024
characters) are required; any other front-matter keys are kept in :attr:`Skill.metadata` and
written back unchanged. :func:`parse_skill` and :func:`render_skill` are inverse, and
:func:`write_skill` writes one atomically, so code that learns a skill writes the same format the
user writes by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.settings.paths import atomic_write_text

SKILL_FILE = "SKILL.md"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_DESCRIPTION = 1024
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


class SkillError(ValueError):
    """A SKILL.md that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    body: str
    path: Path | None = None  # the SKILL.md it was read from
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def resources(self) -> list[str]:
        """Other files in the skill's folder (scripts, templates), relative to it."""
        folder = self.folder
        if folder is None or not folder.is_dir():
            return []
        return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                      if p.is_file() and p.name != SKILL_FILE)[:50]


def check_name(name: str) -> str:
    """``name`` if it is a valid skill name, else :class:`SkillError`."""
    if not NAME_RE.match(name):
        raise SkillError(f"name {name!r} must be lowercase letters, digits and hyphens "
                         "(at most 64)")
    return name


def parse_skill(text: str, path: Path | None = None) -> Skill:
    """A :class:`Skill` from a SKILL.md's text; ``path``'s folder name is the name when the front
    matter gives none."""
    import yaml

    m = _FRONT.match(text.lstrip("\ufeff"))
    if m is None:
        raise SkillError("no YAML front matter (a '---' block with name and description first)")
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        raise SkillError(f"the front matter is not valid YAML{line}: "
                         f"{getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise SkillError("the front matter must be a mapping of keys (name: …, description: …)")
    name = meta.pop("name", None) or (path.parent.name if path is not None else "")
    description = meta.pop("description", None)
    if not isinstance(name, str) or not name:
        raise SkillError("the front matter has no name")
    check_name(name)
    if not isinstance(description, str) or not description.strip():
        raise SkillError("the front matter has no description (the model chooses skills by it)")
    description = " ".join(description.split())
    if len(description) > MAX_DESCRIPTION:
        raise SkillError(f"the description is {len(description)} characters; at most "
                         f"{MAX_DESCRIPTION}")
    return Skill(name, description, text[m.end():].strip("\n"), path,
                 {str(k): v for k, v in meta.items()})


def render_skill(skill: Skill) -> str:
    """The SKILL.md text of ``skill`` (front matter, a blank line, the body)."""
    import yaml

    check_name(skill.name)
    meta = {"name": skill.name, "description": skill.description, **skill.metadata}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100).strip()
    return f"---\n{front}\n---\n\n{skill.body.strip()}\n"


def read_skill_file(path: Path) -> Skill:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillError(f"cannot read it: {exc}") from None
    return parse_skill(text, path)


def write_skill(root: Path, skill: Skill) -> Path:
    """Write ``skill`` to ``root/<name>/SKILL.md`` atomically; returns the path."""
    path = root / check_name(skill.name) / SKILL_FILE
    text = render_skill(skill)
    parse_skill(text, path)  # never write a file the loader would refuse
    atomic_write_text(path, text)
    return path
