"""The skills a session can use: ``skills/<name>/SKILL.md`` in the workspace and in the user's
config dir (the workspace's wins on a name clash), shown to the model as name + description and
loaded in full only when it calls ``read_skill`` (a small window cannot hold every skill)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.context.tokens import estimate_tokens
from app.core.providers.base import ToolSpec
from app.core.skills.format import SKILL_FILE, Skill, SkillError, read_skill_file
from app.core.tools.base import ToolContext, ToolError, ToolRegistry, ToolResult

SKILLS_DIR = "skills"


def skill_budget(window: int) -> int:
    """Tokens for the skill index: 4% of the window, at least 200, at most 4,000."""
    return max(200, min(4000, window // 25))


@dataclass
class SkillLibrary:
    roots: tuple[Path, ...]  # searched in order; an earlier root's skill wins
    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "path: why it was skipped"

    @classmethod
    def for_workspace(cls, workspace: Path, config_dir: Path) -> SkillLibrary:
        lib = cls((workspace / SKILLS_DIR, config_dir / SKILLS_DIR))
        lib.scan()
        return lib

    def scan(self) -> SkillLibrary:
        self.skills, self.problems = {}, []
        for root in self.roots:
            if not root.is_dir():
                continue
            for path in sorted(root.glob(f"*/{SKILL_FILE}")):
                try:
                    skill = read_skill_file(path)
                except SkillError as exc:
                    self.problems.append(f"{path}: {exc}")
                    continue
                self.skills.setdefault(skill.name, skill)
        return self

    def index(self, window: int) -> str:
        """The system-prompt section: what each skill is for, within the window's budget."""
        listed = [s for s in self.skills.values() if listed_in_index(s)]
        if not listed:
            return ""
        head = ("# Skills\nSkills are instructions for particular tasks. When the user's request "
                "matches a skill, call read_skill with its name first and follow what it says.")
        budget = skill_budget(window) - estimate_tokens(head)
        lines: list[str] = []
        for skill in listed:
            line = f"- {skill.name}: {skill.description}"
            if estimate_tokens("\n".join([*lines, line])) > budget:
                break
            lines.append(line)
        left = len(listed) - len(lines)
        if left:
            lines.append(f"- ({left} more not listed for lack of room; read_skill takes any "
                         f"name: {', '.join(s.name for s in listed[len(lines):][:20])})")
        return head + "\n" + "\n".join(lines)


def listed_in_index(skill: Skill) -> bool:
    """Disabled skills stay out of the prompt; so do learned recipes, which the recipe runner
    applies itself (read_skill still opens both)."""
    return skill.metadata.get("enabled", True) is not False and not skill.metadata.get("learned")


class ReadSkill:
    """``read_skill(name)``: a skill's full instructions and the files that come with it."""

    read_only = True

    def __init__(self, library: SkillLibrary) -> None:
        self.library = library
        self.spec = self._spec()

    def refresh(self) -> None:
        """Follow the library after a rescan (its names are this tool's keywords)."""
        self.spec = self._spec()

    def _spec(self) -> ToolSpec:
        return ToolSpec(
            name="read_skill",
            description="Load a skill's full instructions by name (the Skills list names them); "
                        "with file, one of the files that come with the skill.",
            parameters={"type": "object",
                        "properties": {"name": {"type": "string",
                                                "description": "the skill's name"},
                                       "file": {"type": "string",
                                                "description": "optional: a file of the skill"}},
                        "required": ["name"]},
            keywords=("skill", "skills", *self.library.skills))

    def label(self, args: dict[str, Any]) -> str:
        return f"Reading skill {args.get('name', '')}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        name = str(args.get("name") or "").strip().lower()
        skill = self.library.skills.get(name)
        if skill is None:
            known = ", ".join(self.library.skills) or "none"
            raise ToolError(f"no skill named {name!r}; skills: {known}")
        files = skill.resources()
        wanted = str(args.get("file") or "").strip()
        if wanted:
            return self._file(skill, wanted, files)
        text = f"# Skill: {skill.name}\n{skill.description}\n\n{skill.body}"
        if files:
            text += ("\n\nFiles of this skill (read_skill with name and file opens one):\n"
                     + "\n".join(f"- {f}" for f in files))
        return ToolResult(text, meta={"skill": skill.name})

    @staticmethod
    def _file(skill: Skill, wanted: str, files: list[str]) -> ToolResult:
        if wanted not in files or skill.folder is None:
            raise ToolError(f"skill {skill.name} has no file {wanted!r}; its files: "
                            f"{', '.join(files) or 'none'}")
        path = (skill.folder / wanted).resolve()
        if skill.folder.resolve() not in path.parents:  # a symlink out of the skill's folder
            raise ToolError(f"{wanted} points outside the skill's folder; refused")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolError(f"cannot read {wanted}: {exc}") from exc
        return ToolResult(text, meta={"skill": skill.name, "source": str(path)})


def offer_read_skill(tools: ToolRegistry, library: SkillLibrary) -> None:
    """``read_skill`` is in ``tools`` while ``library`` has a skill to read (call again after
    :meth:`SkillLibrary.scan`: the tool's keywords follow the skill names)."""
    tool = tools.get("read_skill")
    if not library.skills:
        tools.unregister("read_skill")
    elif isinstance(tool, ReadSkill) and tool.library is library:
        tool.refresh()
    else:
        tools.register(ReadSkill(library))
