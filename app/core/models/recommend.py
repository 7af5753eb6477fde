"""Per-slot recommendations: the tier's candidates, filtered by what actually fits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.models.discover import LocalModel
from app.core.models.fit import FitPlan, MemoryBudget, plan_fit
from app.core.models.hardware import HardwareSnapshot
from app.core.models.model_catalog import Candidate, CatalogError, ModelCatalog, load_catalog, resolve
from app.core.models.tiers import Tier, TierVerdict, classify
from app.core.settings.config import SLOTS

# Context each slot asks for before the fit maths trims it (memory is a short-job model).
SLOT_CONTEXT = {"main": 32768, "rlm": 16384, "memory": 8192}


@dataclass(frozen=True)
class SlotRecommendation:
    slot: str
    candidate: Candidate
    plan: FitPlan
    local_path: Path | None = None  # already on disk
    shared_with: str = ""
    rejected: tuple[str, ...] = ()  # better candidates that did not fit, with why

    @property
    def needs_download(self) -> bool:
        return (self.candidate.file is not None and self.local_path is None
                and not self.shared_with)


@dataclass(frozen=True)
class Recommendation:
    verdict: TierVerdict
    slots: tuple[SlotRecommendation, ...] = field(default_factory=tuple)

    @property
    def tier(self) -> Tier:
        return self.verdict.tier

    @property
    def download_bytes(self) -> int:
        return sum(s.candidate.file.size for s in self.slots
                   if s.needs_download and s.candidate.file is not None)

    def slot(self, name: str) -> SlotRecommendation:
        return next(s for s in self.slots if s.slot == name)


def recommend(hw: HardwareSnapshot, *, found: Sequence[LocalModel] = (),
              tier: Tier | None = None, catalog: ModelCatalog | None = None) -> Recommendation:
    cat = catalog or load_catalog()
    verdict = classify(hw)
    if tier is not None:
        verdict = TierVerdict(tier, verdict.vram, verdict.ram, f"chosen: {tier.label}")
    budget = MemoryBudget.from_hardware(hw)
    by_name = {m.path.name.lower(): m for m in found if m.ok}
    chosen: dict[str, SlotRecommendation] = {}
    out: list[SlotRecommendation] = []
    for slot in SLOTS:
        rejected: list[str] = []
        picked: SlotRecommendation | None = None
        for ref in cat.recommendations[verdict.tier.value][slot]:
            try:
                cand = resolve(ref, cat)
            except CatalogError as exc:
                rejected.append(str(exc))
                continue
            same = next((r for r in chosen.values() if r.candidate.ref == cand.ref), None)
            if same is not None:
                picked = SlotRecommendation(slot, cand, same.plan, same.local_path,
                                            shared_with=same.slot, rejected=tuple(rejected))
                break
            local = by_name.get(cand.file.file.lower()) if cand.file else None
            shape = local.shape() if local is not None else cand.shape
            plan = plan_fit(shape, budget, want_context=SLOT_CONTEXT[slot], use_gpu=True)
            if plan.fits and plan.device == "partial" and slot != "main":
                plan = plan_fit(shape, budget, want_context=SLOT_CONTEXT[slot], use_gpu=False)
            if not plan.fits:
                rejected.append(f"{cand.title}: {plan.reason}")
                continue
            picked = SlotRecommendation(slot, cand, plan, local.path if local else None,
                                        rejected=tuple(rejected))
            budget = budget.minus(plan.vram_bytes, plan.ram_bytes)
            break
        if picked is None:  # nothing fits at all: the embedded default, flagged by its plan
            cand = resolve("embedded:qwen2.5-coder-0.5b", cat)
            plan = plan_fit(cand.shape, budget, want_context=SLOT_CONTEXT[slot])
            picked = SlotRecommendation(slot, cand, plan, rejected=tuple(rejected))
        chosen[slot] = picked
        out.append(picked)
    return Recommendation(verdict, tuple(out))
