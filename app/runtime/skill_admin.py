"""Skills and learned recipes as the user manages them: the listing, enable/disable and delete.

Shared by ``/skills`` in the app and ``nanobot skills`` in the shell, so both say and do the same.
A learned recipe goes through the learner (its book keeps the recipe's stats, and deleting it
keeps its kind of task from being learned again from the same runs); a skill the user wrote is
only switched on or off in its front matter, never deleted.
"""

from __future__ import annotations

import dataclasses
import shutil

from app.core.learning.learner import Learner
from app.core.learning.recipes import Recipe, from_skill
from app.core.learning.report import recipe_line
from app.core.settings.paths import atomic_write_text
from app.core.skills.format import Skill, SkillError, render_skill
from app.core.skills.library import SkillLibrary

USAGE = "usage: /skills [show|edit|enable|disable|delete NAME]"


def recipe_of(skill: Skill) -> Recipe | None:
    try:
        return from_skill(skill)
    except SkillError:
        return None


def skills_report(library: SkillLibrary, usage: str = USAGE) -> str:
    where = " and ".join(str(r) for r in library.roots)
    if not library.skills and not library.problems:
        return (f"No skills yet. A skill is <name>/SKILL.md with YAML front matter (name, "
                f"description) in {where}. Recipes the agent learns from repeated successes "
                "appear here too.")
    written = [s for s in library.skills.values() if not s.metadata.get("learned")]
    learned = [r for s in library.skills.values() if s.metadata.get("learned")
               for r in [recipe_of(s)] if r is not None]
    lines = [f"Skills ({where}); the model loads one with read_skill:"]
    lines += [f"  {s.name}: {s.description}"
              + (" [disabled]" if s.metadata.get("enabled", True) is False else "")
              for s in written]
    if not written:
        lines.append("  (none written yet)")
    if learned:
        lines.append("Learned recipes (run by themselves when a request matches):")
        lines += [f"  {recipe_line(r)}" for r in learned]
    lines += [f"  skipped {p}" for p in library.problems]
    lines.append(usage)
    return "\n".join(lines)


def show(skill: Skill) -> str:
    return f"{skill.path}\n\n{render_skill(skill)}"


def set_enabled(skill: Skill, enabled: bool, learner: Learner | None) -> str:
    """Switch ``skill`` on or off; the sentence that says what changed."""
    assert skill.path is not None
    learned = bool(skill.metadata.get("learned"))
    recipe = recipe_of(skill) if learned else None
    if recipe is not None and learner is not None:
        learner.book.set_enabled(skill.name, enabled)
    else:
        meta = {**skill.metadata, "enabled": enabled}
        if enabled:
            meta.pop("demoted", None)
        atomic_write_text(skill.path, render_skill(dataclasses.replace(skill, metadata=meta)))
    state = "enabled" if enabled else "disabled"
    if learned:
        what = ("it runs again on matching requests" if enabled else
                "it no longer runs on matching requests")
    else:
        what = "the model sees it again" if enabled else "the model no longer sees it"
    return f"{skill.name} {state}: {what}."


def delete(skill: Skill, learner: Learner | None) -> tuple[bool, str]:
    """Delete a learned recipe (a written skill is refused); (deleted, the sentence to show)."""
    if not skill.metadata.get("learned"):
        return False, (f"{skill.name} is a skill you wrote; delete its folder yourself "
                       f"({skill.folder}) or disable it.")
    if learner is not None:
        learner.forget_recipe(skill.name)
    elif skill.folder is not None:
        shutil.rmtree(skill.folder)
    return True, (f"Deleted the learned recipe {skill.name}; that kind of task is learned again "
                  "only from tasks after now.")
