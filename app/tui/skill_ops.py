"""``/skills`` and its verbs: list skills and learned recipes, ``show``, ``edit``, ``enable``,
``disable`` and ``delete`` (learned recipes only; a skill you wrote is yours to delete). What
each verb does lives in app/runtime/skill_admin.py, shared with ``nanobot skills``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.learning.learner import Learner
from app.core.skills.format import Skill
from app.core.skills.library import SkillLibrary, offer_read_skill
from app.runtime import skill_admin
from app.runtime.skill_admin import USAGE

if TYPE_CHECKING:
    from app.tui.ports import CommandPort

VERBS = ("show", "edit", "enable", "disable", "delete")


def rescan_skills(app: CommandPort) -> SkillLibrary | None:
    """The project's skills read again (one added or edited while Nanobot runs), and
    ``read_skill`` in this session's tools following them; None: no skills here."""
    project = app.factory.project
    if project is None:
        return None
    library = project.skills.scan()
    offer_read_skill(app.session.tools, library)
    return library


def skills_report(app: CommandPort) -> str:
    library = rescan_skills(app)
    if library is None:
        return "Skills are not available in this session."
    return skill_admin.skills_report(library)


def _learner(app: CommandPort) -> Learner | None:
    hook = app.factory.learning
    return hook.learner if hook is not None else None


async def run_skills(app: CommandPort, arg: str) -> None:
    verb, _, name = arg.strip().partition(" ")
    if not verb:
        app.add_notice(skills_report(app))
        return
    if verb not in VERBS or not name.strip():
        app.say(USAGE, "warning")
        return
    library = rescan_skills(app)
    if library is None:
        app.add_notice("Skills are not available in this session.",
                                          "warning")
        return
    skill = library.skills.get(name.strip())
    if skill is None or skill.path is None:
        app.say(f"no skill named {name.strip()!r}; /skills lists them", "error")
        return
    if verb == "show":
        app.add_notice(skill_admin.show(skill))
    elif verb == "edit":
        _edit(app, skill)
    elif verb in ("enable", "disable"):
        text = skill_admin.set_enabled(skill, verb == "enable", _learner(app))
        rescan_skills(app)
        app.add_notice(text)
    else:
        _, text = skill_admin.delete(skill, _learner(app))
        rescan_skills(app)
        app.add_notice(text)


def _edit(app: CommandPort, skill: Skill) -> None:
    from app.tui.screens.skill_editor import SkillEditor

    assert skill.path is not None

    def saved(ok: bool | None) -> None:
        if ok:
            rescan_skills(app)
            app.say(f"Saved {skill.name}")

    app.push_screen(SkillEditor(skill.path), saved)
