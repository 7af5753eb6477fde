"""The learner: what Nanobot keeps from its own work, shared by every session of a process.

It owns the trace log (:mod:`.traces`), the statistics database (:mod:`.stats`) and the learned
recipes (:mod:`.recipes`), all in files, so several Nanobot processes (and the benchmark's fresh
session per task) learn into the same place. Sessions reach it through their
:class:`~app.core.learning.hook.LearningHook`.

Life of a task: the hook categorises the request (:meth:`categorise`), asks for a recipe
(:meth:`match`) and a budget (:meth:`budget`), records the finished turn (:meth:`record_turn`),
and the outcome arrives later (:meth:`judge`: the task's check, the user's 👍/👎, or what the user
did next). A success may crystallise the category's recipe (:meth:`maybe_crystallise`); an outcome
of a turn that ran a recipe counts as a use of it, and a recipe that keeps failing is demoted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.learning.recipes import Recipe, RecipeBook, crystallise
from app.core.learning.shapes import closest, shape, slots, slug
from app.core.learning.stats import Norm, Run, StatsDB
from app.core.learning.traces import TraceStore, new_trace_id
from app.core.settings.config import LearningConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    recipe: Recipe
    values: dict[str, str]  # placeholder → the request's literal


@dataclass(frozen=True)
class Learned:
    """What a judgement changed: a recipe learned, or one demoted."""

    crystallised: Recipe | None = None
    demoted: Recipe | None = None


class Learner:
    def __init__(self, config: LearningConfig, *, state_dir: Path, skills_dir: Path) -> None:
        self.config = config
        self.dir = state_dir / "learning"
        self.traces = TraceStore(self.dir / "traces", keep_days=config.keep_days)
        self.stats = StatsDB(self.dir / "stats.db", min_runs=config.budget_min_runs)
        self.book = RecipeBook(skills_dir, demote_window=config.demote_window,
                               demote_below=config.demote_below)
        self._lock = threading.Lock()
        self._categories: dict[str, str] | None = None  # shape → category, cached

    # --- kinds of task -------------------------------------------------------------------------

    def categorise(self, text: str) -> tuple[str, str]:
        """(category, shape) of a request; a shape unlike any seen before starts a category."""
        s = shape(text)
        with self._lock:
            if self._categories is None:
                self._categories = {sh: c for c, sh in self.stats.categories().items() if sh}
            known = self._categories
            if s in known:
                return known[s], s
            near = closest(s, known, self.config.category_similarity)
            if near is not None:
                return known[near], s
            base = slug(s)
            taken = set(known.values())
            name, n = base, 2
            while name in taken:
                name, n = f"{base}-{n}", n + 1
            self.stats.add_category(name, s)
            known[s] = name
            return name, s

    # --- recording -----------------------------------------------------------------------------

    def record_turn(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append a finished turn's trace and its run row; returns the written record."""
        rec = {"kind": "turn", "id": record.get("id") or new_trace_id(), **record}
        written = self.traces.append(rec) if self.config.traces else rec
        tokens = rec.get("tokens") or {}
        workers = rec.get("workers") or {}
        self.stats.record(Run(
            str(rec["id"]), str(rec.get("category", "")), str(rec.get("shape", "")),
            str(rec.get("task", "")), tuple(rec.get("calls") or ()), int(rec.get("steps", 0)),
            float(rec.get("seconds", 0.0)),
            int(tokens.get("prompt", 0)) + int(tokens.get("completion", 0)), None, "",
            int(workers.get("depth", 0)), int(workers.get("spawned", 0)),
            # A recipe that broke off was counted as failed when it did; the run is the model's.
            str(rec.get("recipe", "")) if rec.get("recipe_completed") else "",
            str(rec.get("model", "")), float(written.get("ts", 0)),
            answer=str(rec.get("answer", ""))))
        return written

    def record_process(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """A million-step process's run, as one trace record."""
        if not self.config.traces:
            return None
        return self.traces.append({"kind": "process", "id": new_trace_id(), **record})

    def judge(self, trace_id: str, success: bool, by: str, note: str = "") -> Learned:
        """An outcome for a recorded turn: into the log and the stats; counts a recipe's use;
        may learn or demote a recipe."""
        if self.config.traces:
            self.traces.outcome(trace_id, success, by, note)
        run = self.stats.judge(trace_id, success, by)
        if run is None:
            return Learned()
        demoted = None
        if run.recipe:
            demoted = self.recipe_used(run.recipe, success, run.category, steps=run.steps,
                                       seconds=run.seconds)
        made = self.maybe_crystallise(run.category) if success else None
        return Learned(made, demoted)

    def recipe_used(self, name: str, success: bool, category: str, *, steps: int = 0,
                    seconds: float = 0.0) -> Recipe | None:
        """Count a use of recipe ``name``; returns it if this use demoted it."""
        if not self.config.recipes:
            return None
        used = self.book.record_use(name, success, steps=steps, seconds=seconds)
        if used is None or used.enabled or not used.demoted:
            return None
        self.stats.set_not_before(category, time.time())
        log.info("recipe %s demoted: %s", used.name, used.demoted)
        return used

    # --- recipes -------------------------------------------------------------------------------

    def maybe_crystallise(self, category: str) -> Recipe | None:
        """Learn ``category``'s recipe when its history is convincing and it has none (a
        recipe the user disabled, or one demoted, is left alone)."""
        if not self.config.recipes or not category:
            return None
        current = self.book.for_category(self._shape_of(category))
        if current is not None:
            return None
        since = self.stats.not_before(category)
        judged = [r for r in self.stats.runs(category, since=since, limit=50)
                  if r.success is not None and not r.recipe]
        recipe = crystallise(judged, category=self._shape_of(category),
                             min_support=self.config.crystallise_after,
                             min_confidence=self.config.min_confidence)
        if recipe is None:
            return None
        recipe = self._unique(recipe)
        saved = self.book.save(recipe)
        log.info("learned recipe %s from %s runs", saved.name, saved.stats.get("learned_from"))
        return saved

    def _unique(self, recipe: Recipe) -> Recipe:
        from dataclasses import replace

        existing = self.book.load()
        if recipe.name not in existing and not (self.book.root / recipe.name).exists():
            return recipe
        n = 2
        while f"{recipe.name[:60]}-{n}" in existing or (self.book.root / f"{recipe.name[:60]}-{n}"
                                                         ).exists():
            n += 1
        return replace(recipe, name=f"{recipe.name[:60]}-{n}")

    def _shape_of(self, category: str) -> str:
        return self.stats.categories().get(category, "") or category

    def match(self, text: str, category: str) -> Match | None:
        """The enabled recipe for ``category`` whose request literals this request has."""
        if not self.config.recipes:
            return None
        recipe = self.book.for_category(self._shape_of(category))
        if recipe is None or not recipe.enabled:
            return None
        values = slots(text)
        if not recipe.needs() <= set(values):
            return None
        return Match(recipe, values)

    def forget_recipe(self, name: str) -> Recipe | None:
        """Delete a learned recipe; its category learns again only from later runs."""
        recipe = self.book.delete(name)
        if recipe is not None:
            category = next((c for c, s in self.stats.categories().items()
                             if s == recipe.category), recipe.category)
            self.stats.set_not_before(category, time.time())
        return recipe

    # --- budgets -------------------------------------------------------------------------------

    def budget(self, category: str) -> int | None:
        return self.stats.budget(category) if self.config.budgets else None

    def norm(self, category: str) -> Norm | None:
        return self.stats.norm(category) if self.config.budgets else None
