"""Recipes: the tool sequence that tasks of one kind succeeded with, learned from their traces.

A recipe is stored as an ordinary skill (``skills/<name>/SKILL.md``, :mod:`app.core.skills.format`)
with ``learned: true`` and its steps and measured stats in the front matter, so the user reads,
edits, disables or deletes it like any skill. Each step names a tool and its arguments; an
argument is one of

- a constant (every successful run used the same value);
- a rule over the request's literals and earlier results (:mod:`.rules`);
- ``{fill: "what it is", examples: [...]}``: a value the model fills in for the new task.

Where the runs' answers share one form whose varying values all come from such rules, the recipe
keeps it as ``answer`` and a matching task is answered in that form without the model; read-only
steps no rule reads are then skipped. Otherwise the model answers from the results.

:func:`crystallise` finds the common sequence and the most specific form of each argument that
holds for every run it learned from.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.learning.rules import (
    PART,
    PLACEHOLDER,
    answer_rule,
    edit_rule,
    line_rule,
    referenced_steps,
    templated,
)
from app.core.learning.shapes import slots, slug
from app.core.skills.format import SKILL_FILE, Skill, SkillError, parse_skill, write_skill

RESULT_CHARS = 4000  # of each call's result kept for derivations


@dataclass(frozen=True)
class Step:
    tool: str
    args: dict[str, Any]

    def fills(self) -> dict[str, dict[str, Any]]:
        """Arguments the model fills in."""
        return {k: v for k, v in self.args.items() if isinstance(v, dict) and "fill" in v}

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args}


@dataclass(frozen=True)
class Recipe:
    name: str
    category: str  # the shape of the requests it is for
    description: str
    steps: tuple[Step, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    demoted: str = ""  # why it was turned off by its results ("" = it was not)
    version: int = 1
    example: str = ""
    body: str = ""
    path: Path | None = None
    answer: dict[str, Any] | None = None  # {template, parts}: see rules.answer_rule

    def rules(self) -> list[Any]:
        out = [v for step in self.steps for v in step.args.values()]
        if self.answer:
            out += [{"template": self.answer.get("template", "")},
                    *self.answer.get("parts", [])]
        return out

    def needs(self) -> set[str]:
        """Placeholders (``path0``…) its steps and answer take from the request."""
        out: set[str] = set()
        for v in self.rules():
            if isinstance(v, dict):
                for key in ("template", "containing", "set"):
                    text = v.get(key)
                    if isinstance(text, str):
                        out.update(k + n for k, n in PLACEHOLDER.findall(text))
        return out

    def needed_steps(self) -> set[int]:
        """Steps whose results a later step or the answer reads."""
        return referenced_steps(self.rules())

    @property
    def uses(self) -> int:
        return int(self.stats.get("uses", 0))


# --- learning ------------------------------------------------------------------------------------

def _ok_calls(calls: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c.get("ok") and isinstance(c.get("args"), dict)]


def _argument(samples: list[tuple[Any, dict[str, str], list[str]]], tool: str,
              arg: str, tasks: list[str]) -> Any:
    values = [v for v, _, _ in samples]
    # What the request said comes from the request, even where every run said the same.
    texts = [str(v) for v in values]
    templates = {templated(t, s) for t, (_, s, _) in zip(texts, samples, strict=True)}
    if len(templates) == 1 and all(isinstance(v, str | int) for v in values):
        template = templates.pop()
        if PLACEHOLDER.search(template):
            rule: dict[str, Any] = {"template": template}
            if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                rule["type"] = "integer"
            return rule
    if all(v == values[0] for v in values):
        return values[0]
    if all(isinstance(v, str) for v in values):
        derived = [(str(v), s, r) for v, s, r in samples]
        found = line_rule(derived) or edit_rule(derived)
        if found is not None:
            return found
    examples = [{"task": t[:200], "value": v} for t, v in zip(tasks, values, strict=True)][:3]
    return {"fill": f"the {arg} argument of {tool}", "examples": examples}


def crystallise(runs: list[Any], *, category: str, min_support: int,
                min_confidence: float) -> Recipe | None:
    """A recipe from a category's judged runs (objects with ``task``, ``calls`` and
    ``success``), or None while no tool sequence is shared by ``min_support`` successful runs
    making up ``min_confidence`` of the successful ones."""
    ok = [r for r in runs if getattr(r, "success", True) and _ok_calls(r.calls)]
    if len(ok) < min_support:
        return None
    seqs = Counter(tuple(c["name"] for c in _ok_calls(r.calls)) for r in ok)
    seq, support = seqs.most_common(1)[0]
    # Confidence: how consistently the successes went one way. Failures do not count against
    # it: a kind of task the model often fails is where a recipe helps most (and a recipe that
    # fails is demoted by its own results).
    if support < min_support or support / len(ok) < min_confidence:
        return None
    chosen = [r for r in ok if tuple(c["name"] for c in _ok_calls(r.calls)) == seq]
    tasks = [r.task for r in chosen]
    per_run = [(_ok_calls(r.calls), slots(r.task)) for r in chosen]
    answer = answer_rule([str(getattr(r, "answer", "") or "") for r in chosen],
                         [(values, [str(c.get("result", "")) for c in calls])
                          for calls, values in per_run])
    steps: list[Step] = []
    for i, tool in enumerate(seq):
        keys = set.intersection(*(set(calls[i]["args"]) for calls, _ in per_run))
        args: dict[str, Any] = {}
        for key in sorted(keys):
            samples = [(calls[i]["args"][key], values,
                        [str(c.get("result", "")) for c in calls[:i]]) for calls, values in per_run]
            args[key] = _argument(samples, tool, key, tasks)
        steps.append(Step(tool, args))
    secs = [float(getattr(r, "seconds", 0.0)) for r in chosen]
    step_counts = [float(getattr(r, "steps", 0)) for r in chosen]
    stats = {"learned_from": len(chosen), "avg_steps": round(sum(step_counts) / len(chosen), 2),
             "avg_seconds": round(sum(secs) / len(chosen), 2),
             "success_rate": round(len(ok) / len(runs), 3), "uses": 0, "successes": 0,
             "failures": 0, "recent": []}
    name = "learned-" + slug(category, 40)
    example = tasks[-1][:200]
    description = (f"Learned recipe for requests like \"{example}\" "
                   f"({' → '.join(seq)}); runs by itself when a request matches.")
    return Recipe(name, category, description, tuple(steps), stats, example=example,
                  body=_body(category, seq, len(chosen), answer), answer=answer)


def _body(category: str, seq: tuple[str, ...], n: int, answer: dict[str, Any] | None) -> str:
    lines = [f"Learned from {n} successful tasks of the shape `{category}`.", "",
             "Steps (the recipe runner binds the arguments in the front matter):"]
    lines += [f"{i}. `{tool}`" for i, tool in enumerate(seq, start=1)]
    if answer:
        shown = PART.sub(lambda m: f"<value {int(m.group(1)) + 1}>", str(answer["template"]))
        lines += ["", f"Then it answers without the model, in the form its runs shared: "
                      f"\"{shown}\" (`answer` in the front matter; delete it to let the model "
                      "answer). Set `enabled: false` to stop it running."]
    else:
        lines += ["", "Then the model answers from the results. Set `enabled: false` to stop it "
                  "running; edit `recipe` to change what it does."]
    return "\n".join(lines)


# --- as a skill ----------------------------------------------------------------------------------

def to_skill(recipe: Recipe) -> Skill:
    meta: dict[str, Any] = {"learned": True, "category": recipe.category,
                            "enabled": recipe.enabled, "version": recipe.version,
                            "example": recipe.example,
                            "recipe": [s.to_dict() for s in recipe.steps], "stats": recipe.stats}
    if recipe.demoted:
        meta["demoted"] = recipe.demoted
    if recipe.answer:
        meta["answer"] = recipe.answer
    return Skill(recipe.name, recipe.description, recipe.body, recipe.path, meta)


def from_skill(skill: Skill) -> Recipe | None:
    """The recipe of a learned skill; None for a skill a person wrote."""
    meta = skill.metadata
    if not meta.get("learned"):
        return None
    raw = meta.get("recipe")
    if not isinstance(raw, list) or not raw:
        raise SkillError("a learned skill needs a non-empty recipe list")
    steps = []
    for i, s in enumerate(raw, start=1):
        if not isinstance(s, dict) or not isinstance(s.get("tool"), str):
            raise SkillError(f"recipe step {i} needs a tool name")
        args = s.get("args") or {}
        if not isinstance(args, dict):
            raise SkillError(f"recipe step {i}: args must be a mapping")
        steps.append(Step(s["tool"], dict(args)))
    stats = meta.get("stats") if isinstance(meta.get("stats"), dict) else {}
    answer = meta.get("answer")
    if answer is not None and not (isinstance(answer, dict) and isinstance(
            answer.get("template"), str) and isinstance(answer.get("parts", []), list)):
        raise SkillError("a learned skill's answer needs a template and a list of parts")
    return Recipe(skill.name, str(meta.get("category", "")), skill.description, tuple(steps),
                  dict(stats or {}), bool(meta.get("enabled", True)), str(meta.get("demoted", "")),
                  int(meta.get("version", 1) or 1), str(meta.get("example", "")), skill.body,
                  skill.path, answer or None)


class RecipeBook:
    """The learned skills in a skills folder (the user's config dir ``skills/``)."""

    def __init__(self, root: Path, *, demote_window: int = 4, demote_below: float = 0.5) -> None:
        self.root = root
        self.demote_window = demote_window
        self.demote_below = demote_below

    def load(self) -> dict[str, Recipe]:
        out: dict[str, Recipe] = {}
        if not self.root.is_dir():
            return out
        for path in sorted(self.root.glob(f"*/{SKILL_FILE}")):
            try:
                recipe = from_skill(parse_skill(path.read_text("utf-8"), path))
            except (OSError, UnicodeDecodeError, SkillError):
                continue  # /skills reports unreadable skills; the runner skips them
            if recipe is not None:
                out[recipe.name] = recipe
        return out

    def for_category(self, category: str) -> Recipe | None:
        return next((r for r in self.load().values() if r.category == category), None)

    def save(self, recipe: Recipe) -> Recipe:
        path = write_skill(self.root, to_skill(recipe))
        return replace(recipe, path=path)

    def set_enabled(self, name: str, enabled: bool) -> Recipe | None:
        recipe = self.load().get(name)
        if recipe is None:
            return None
        return self.save(replace(recipe, enabled=enabled, demoted="" if enabled else
                                 recipe.demoted))

    def record_use(self, name: str, success: bool, *, steps: int = 0,
                   seconds: float = 0.0) -> Recipe | None:
        """Count one use; a recipe whose recent uses fail too often is demoted (disabled, with
        the reason), and stays visible in /skills."""
        recipe = self.load().get(name)
        if recipe is None:
            return None
        st = dict(recipe.stats)
        st["uses"] = int(st.get("uses", 0)) + 1
        key = "successes" if success else "failures"
        st[key] = int(st.get(key, 0)) + 1
        recent = [int(x) for x in st.get("recent", []) if x in (0, 1)][-(self.demote_window - 1):]
        recent.append(int(success))
        st["recent"] = recent
        n = st["uses"]
        for field_, value in (("avg_steps_used", float(steps)), ("avg_seconds_used", seconds)):
            old = float(st.get(field_, value))
            st[field_] = round(old + (value - old) / n, 2)
        st["last_used"] = round(time.time(), 1)
        demoted = recipe.demoted
        enabled = recipe.enabled
        rate = sum(recent) / len(recent)
        if enabled and len(recent) >= 2 and rate < self.demote_below:
            enabled = False
            demoted = (f"{len(recent) - sum(recent)} of its last {len(recent)} uses failed "
                       f"({time.strftime('%Y-%m-%d %H:%M')})")
        return self.save(replace(recipe, stats=st, enabled=enabled, demoted=demoted))

    def delete(self, name: str) -> Recipe | None:
        recipe = self.load().get(name)
        if recipe is None or recipe.path is None:
            return None
        folder = recipe.path.parent
        for p in sorted(folder.rglob("*"), reverse=True):
            if p.is_file() or p.is_symlink():
                p.unlink()
            else:
                p.rmdir()
        folder.rmdir()
        return recipe
