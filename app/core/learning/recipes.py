"""Recipes: the tool sequence that tasks of one kind succeeded with, learned from their traces.

A recipe is stored as an ordinary skill (``skills/<name>/SKILL.md``, :mod:`app.core.skills.format`)
with ``learned: true`` and its steps and measured stats in the front matter, so the user reads,
edits, disables or deletes it like any skill. Each step names a tool and its arguments; an
argument is one of

- a constant (every successful run used the same value);
- ``{template: "…{{path0}}…"}``: text built from the request's literals (:func:`shapes.slots`);
- ``{line_of: STEP, containing: "{{name0}}"}``: the line of an earlier step's result that holds
  a literal of the request (the text an edit replaces);
- ``{fill: "what it is", examples: [...]}``: a value the model fills in for the new task.

:func:`crystallise` finds the common sequence and the most specific form of each argument that
holds for every run it learned from.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core.learning.shapes import slots, slug
from app.core.skills.format import SKILL_FILE, Skill, SkillError, parse_skill, write_skill

PLACEHOLDER = re.compile(r"\{\{(str|path|num|name|proper)(\d+)\}\}")
RESULT_CHARS = 4000  # of each call's result kept for derivations


class Unbound(Exception):
    """A step's argument cannot be made for this request (the recipe does not apply)."""


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

    def needs(self) -> set[str]:
        """Placeholders (``path0``…) its steps take from the request."""
        out: set[str] = set()
        for step in self.steps:
            for v in step.args.values():
                text = v.get("template") or v.get("containing") if isinstance(v, dict) else None
                if isinstance(text, str):
                    out.update(k + n for k, n in PLACEHOLDER.findall(text))
        return out

    @property
    def uses(self) -> int:
        return int(self.stats.get("uses", 0))


# --- binding -------------------------------------------------------------------------------------

def fill_template(template: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        key = m.group(1) + m.group(2)
        if key not in values:
            raise Unbound(f"the request has no {key}")
        return values[key]

    return PLACEHOLDER.sub(sub, template)


def bind(value: Any, values: dict[str, str], results: list[str]) -> Any:
    """The concrete argument for this request; fill-ins are left to the caller."""
    if not isinstance(value, dict):
        return value
    if "template" in value:
        text = fill_template(str(value["template"]), values)
        if value.get("type") == "integer":
            try:
                return int(text.replace(",", ""))
            except ValueError as exc:
                raise Unbound(f"{text!r} is not a whole number") from exc
        return text
    if "line_of" in value:
        idx = int(value["line_of"])
        if idx >= len(results):
            raise Unbound(f"step {idx + 1} has no result")
        needle = fill_template(str(value.get("containing", "")), values)
        lines = [ln.strip() for ln in results[idx].splitlines() if needle in ln and ln.strip()]
        if len(lines) != 1:  # none, or ambiguous: not ours to guess
            raise Unbound(f"{len(lines)} lines of step {idx + 1}'s result contain {needle!r}")
        return lines[0]
    return value


# --- learning ------------------------------------------------------------------------------------

def _ok_calls(calls: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in calls if c.get("ok") and isinstance(c.get("args"), dict)]


def _templated(value: str, values: dict[str, str]) -> str:
    """``value`` with each request literal in it replaced by its placeholder (longest first)."""
    out = value
    for key, lit in sorted(values.items(), key=lambda kv: -len(kv[1])):
        # Whole tokens only: the literal 2 is not the 2 inside 25.
        pattern = re.compile(r"(?<![\w.])" + re.escape(lit) + r"(?![\w])")
        out = pattern.sub("{{" + key + "}}", out)
    return out


def _line_rule(samples: list[tuple[str, dict[str, str], list[str]]]) -> dict[str, Any] | None:
    """A ``line_of`` rule that yields every sample's value, if there is one."""
    _first_value, first_slots, first_results = samples[0]
    for idx in range(len(first_results)):
        for key, _lit in first_slots.items():
            rule = {"line_of": idx, "containing": "{{" + key + "}}"}
            try:
                if all(bind(rule, s, r) == v for v, s, r in samples):
                    return rule
            except Unbound:
                continue
    return None


def _argument(samples: list[tuple[Any, dict[str, str], list[str]]], tool: str,
              arg: str, tasks: list[str]) -> Any:
    values = [v for v, _, _ in samples]
    # What the request said comes from the request, even where every run said the same.
    texts = [str(v) for v in values]
    templates = {_templated(t, s) for t, (_, s, _) in zip(texts, samples, strict=True)}
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
        line = _line_rule([(str(v), s, r) for v, s, r in samples])
        if line is not None:
            return line
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
                  body=_body(category, seq, len(chosen)))


def _body(category: str, seq: tuple[str, ...], n: int) -> str:
    lines = [f"Learned from {n} successful tasks of the shape `{category}`.", "",
             "Steps (the recipe runner binds the arguments in the front matter):"]
    lines += [f"{i}. `{tool}`" for i, tool in enumerate(seq, start=1)]
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
    return Recipe(skill.name, str(meta.get("category", "")), skill.description, tuple(steps),
                  dict(stats or {}), bool(meta.get("enabled", True)), str(meta.get("demoted", "")),
                  int(meta.get("version", 1) or 1), str(meta.get("example", "")), skill.body,
                  skill.path)


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
