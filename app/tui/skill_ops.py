"""``/skills`` and its verbs: list skills and learned recipes, ``show``, ``edit``, ``enable``,
``disable`` and ``delete`` (learned recipes only; a skill you wrote is yours to delete). What
each verb does lives in app/runtime/skill_admin.py, shared with ``nanobot skills``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.learning.hook import learning_of
from app.core.learning.learner import Learner
from app.core.skills.format import Skill
from app.core.skills.library import rescan_skills
from app.runtime import skill_admin
from app.runtime.skill_admin import USAGE

if TYPE_CHECKING:
    from app.tui.app import NanobotApp

VERBS = ("show", "edit", "enable", "disable", "delete")


def skills_report(app: NanobotApp) -> str:
    library = rescan_skills(app.session)
    if library is None:
        return "Skills are not available in this session."
    return skill_admin.skills_report(library)


def _learner(app: NanobotApp) -> Learner | None:
    hook = learning_of(app.session)
    return hook.learner if hook is not None else None


async def run_skills(app: NanobotApp, arg: str) -> None:
    verb, _, name = arg.strip().partition(" ")
    if not verb:
        await app.conversation.add_notice(skills_report(app))
        return
    if verb not in VERBS or not name.strip():
        app.say(USAGE, "warning")
        return
    library = rescan_skills(app.session)
    if library is None:
        await app.conversation.add_notice("Skills are not available in this session.",
                                          "warning")
        return
    skill = library.skills.get(name.strip())
    if skill is None or skill.path is None:
        app.say(f"no skill named {name.strip()!r}; /skills lists them", "error")
        return
    if verb == "show":
        await app.conversation.add_notice(skill_admin.show(skill))
    elif verb == "edit":
        _edit(app, skill)
    elif verb in ("enable", "disable"):
        text = skill_admin.set_enabled(skill, verb == "enable", _learner(app))
        rescan_skills(app.session)
        await app.conversation.add_notice(text)
    else:
        _, text = skill_admin.delete(skill, _learner(app))
        rescan_skills(app.session)
        await app.conversation.add_notice(text)


def _edit(app: NanobotApp, skill: Skill) -> None:
    from app.tui.screens.skill_editor import SkillEditor

    assert skill.path is not None

    def saved(ok: bool | None) -> None:
        if ok:
            rescan_skills(app.session)
            app.say(f"Saved {skill.name}")

    app.push_screen(SkillEditor(skill.path), saved)
