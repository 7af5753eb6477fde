"""``/skills`` and its verbs: list skills and learned recipes, ``show``, ``edit``, ``enable``,
``disable`` and ``delete`` (learned recipes only; a skill you wrote is yours to delete)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from app.core.learning.hook import learning_of
from app.core.learning.recipes import Recipe, from_skill
from app.core.learning.report import recipe_line
from app.core.settings.paths import atomic_write_text
from app.core.skills.format import Skill, SkillError, render_skill
from app.core.skills.library import SkillLibrary, rescan_skills

if TYPE_CHECKING:
    from app.tui.app import NanobotApp

VERBS = ("show", "edit", "enable", "disable", "delete")
USAGE = "usage: /skills [show|edit|enable|disable|delete NAME]"


def _recipe(skill: Skill) -> Recipe | None:
    try:
        return from_skill(skill)
    except SkillError:
        return None


def skills_report(app: NanobotApp) -> str:
    library = rescan_skills(app.session)
    if library is None:
        return "Skills are not available in this session."
    where = " and ".join(str(r) for r in library.roots)
    if not library.skills and not library.problems:
        return (f"No skills yet. A skill is <name>/SKILL.md with YAML front matter (name, "
                f"description) in {where}. Recipes the agent learns from repeated successes "
                "appear here too.")
    written = [s for s in library.skills.values() if not s.metadata.get("learned")]
    learned = [r for s in library.skills.values() if s.metadata.get("learned")
               for r in [_recipe(s)] if r is not None]
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
    lines.append(USAGE)
    return "\n".join(lines)


def _find(app: NanobotApp, name: str) -> tuple[SkillLibrary | None, Skill | None]:
    library = rescan_skills(app.session)
    if library is None:
        return None, None
    return library, library.skills.get(name.strip())


async def run_skills(app: NanobotApp, arg: str) -> None:
    verb, _, name = arg.strip().partition(" ")
    if not verb:
        await app.conversation.add_notice(skills_report(app))
        return
    if verb not in VERBS or not name.strip():
        app.say(USAGE, "warning")
        return
    library, skill = _find(app, name)
    if library is None:
        await app.conversation.add_notice("Skills are not available in this session.",
                                          "warning")
        return
    if skill is None or skill.path is None:
        app.say(f"no skill named {name.strip()!r}; /skills lists them", "error")
        return
    if verb == "show":
        await app.conversation.add_notice(f"{skill.path}\n\n{render_skill(skill)}")
    elif verb == "edit":
        _edit(app, skill)
    elif verb in ("enable", "disable"):
        await app.conversation.add_notice(_set_enabled(app, skill, verb == "enable"))
    else:
        await app.conversation.add_notice(_delete(app, skill))


def _edit(app: NanobotApp, skill: Skill) -> None:
    from app.tui.screens.skill_editor import SkillEditor

    assert skill.path is not None

    def saved(ok: bool | None) -> None:
        if ok:
            rescan_skills(app.session)
            app.say(f"Saved {skill.name}")

    app.push_screen(SkillEditor(skill.path), saved)


def _set_enabled(app: NanobotApp, skill: Skill, enabled: bool) -> str:
    assert skill.path is not None
    recipe = _recipe(skill) if skill.metadata.get("learned") else None
    hook = learning_of(app.session)
    if recipe is not None and hook is not None:
        hook.learner.book.set_enabled(skill.name, enabled)
    else:
        meta = {**skill.metadata, "enabled": enabled}
        if enabled:
            meta.pop("demoted", None)
        atomic_write_text(skill.path, render_skill(dataclasses.replace(skill, metadata=meta)))
    rescan_skills(app.session)
    state = "enabled" if enabled else "disabled"
    what = ("it runs again on matching requests" if enabled else
            "it no longer runs on matching requests") if skill.metadata.get("learned") else (
        "the model sees it again" if enabled else "the model no longer sees it")
    return f"{skill.name} {state}: {what}."


def _delete(app: NanobotApp, skill: Skill) -> str:
    if not skill.metadata.get("learned"):
        return (f"{skill.name} is a skill you wrote; delete its folder yourself "
                f"({skill.folder}) or /skills disable it.")
    hook = learning_of(app.session)
    if hook is not None:
        hook.learner.forget_recipe(skill.name)
    elif skill.folder is not None:
        import shutil

        shutil.rmtree(skill.folder)
    rescan_skills(app.session)
    return (f"Deleted the learned recipe {skill.name}; that kind of task is learned again only "
            "from tasks after now.")
