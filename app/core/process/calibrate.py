"""Calibration: single samples on random reachable steps, scored against the solver.

From them: p (right among valid samples) with a one-sided Clopper-Pearson lower bound (Wilson is
reported too), the valid-parse rate v, the reply-length distribution and the token cap it implies,
k_min for a target t over s steps (from the *lower bound*, not the point estimate), expected samples
per step, and a projected time from the measured throughput. A lower bound at or below 0.5 is a
no-go: voting cannot be trusted to converge, so no run starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.process import kmath
from app.core.process.oracle import oracle_for
from app.core.process.samplers import Sampler, SampleRequest, sample_seed
from app.core.process.task import Answer, Parsed, RedFlag, Task, task_variant


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class CalibrationReport:
    task: str
    variant: str
    params: dict[str, Any]
    model: str
    temperature: float
    grammar: bool
    samples: int
    valid: int
    correct: int
    confidence: float
    steps: int
    target: float
    p_hat: float | None = None
    p_low: float = 0.0
    p_wilson: float = 0.0
    valid_rate: float = 0.0
    len_p50: float = 0.0
    len_p90: float = 0.0
    len_p99: float = 0.0
    len_max: int = 0
    token_cap: int = 0
    k_min: int | None = None
    exp_samples: float | None = None
    sec_per_sample: float = 0.0
    projected_s: float | None = None
    verdict: str = "no-go"
    details: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        ph = "n/a" if self.p_hat is None else f"{self.p_hat:.4f}"
        out = [
            f"calibration of {self.task} ({self.variant}) {self.params} on {self.model}, "
            f"temperature {self.temperature}, grammar {'on' if self.grammar else 'off'}",
            f"  samples {self.samples}: valid {self.valid} (v = {self.valid_rate:.3f}), "
            f"right {self.correct}",
            f"  p = {ph}; one-sided {self.confidence:.0%} lower bounds: Clopper-Pearson "
            f"{self.p_low:.4f}, Wilson {self.p_wilson:.4f}",
            f"  reply tokens: p50 {self.len_p50:.0f}, p90 {self.len_p90:.0f}, p99 "
            f"{self.len_p99:.0f}, max {self.len_max} -> token cap {self.token_cap}",
            f"  errors: {self.details.get('errors', {})}; red flags: {self.details.get('flags', {})}",
            f"  {self.sec_per_sample:.3f} s per sample (measured throughput)",
        ]
        if self.k_min is not None and self.exp_samples is not None:
            proj = self.projected_s or 0.0
            out.append(f"  k_min = {self.k_min} for t = {self.target} over s = {self.steps:,} steps; "
                       f"expected {self.exp_samples:.2f} samples/step; projected "
                       f"{proj / 3600:.2f} h ({proj:,.0f} s)")
            out.append("  verdict: go")
        else:
            out.append(f"  verdict: no-go: the lower bound on p ({self.p_low:.4f}) is not above "
                       "0.5, so voting cannot be relied on to converge on the right answer")
        return out


def token_cap_from(lengths: Sequence[int], fallback: int) -> int:
    """A red-flag cap near the p99 of valid replies, with a quarter of headroom."""
    if not lengths:
        return fallback
    return max(8, math.ceil(1.25 * percentile(lengths, 0.99)))


async def calibrate(task: Task, sampler: Sampler, *, samples: int, temperature: float = 0.1,
                    grammar: bool = True, target: float = 0.95, steps: int | None = None,
                    confidence: float = 0.95, seed: int = 0, batch: int | None = None,
                    cancel: CancelToken | None = None,
                    on_sample: Callable[[int, bool | None, str], None] | None = None,
                    ) -> CalibrationReport:
    cancel = cancel or CancelToken()
    # As many at once as the sampler can serve, so progress shows as samples complete.
    batch = batch or max(1, min(64, int(getattr(sampler, "capacity", 64))))
    cases = oracle_for(task).cases(task, samples, seed)
    probe_cap = task.default_token_cap * 2
    steps = steps or task.total_steps or samples
    valid_lengths: list[int] = []
    errors: dict[str, int] = {}
    flags: dict[str, int] = {}
    examples: list[dict[str, Any]] = []
    valid = correct = 0
    started = time.perf_counter()
    for lo in range(0, len(cases), batch):
        chunk = cases[lo:lo + batch]
        requests = []
        for i, case in enumerate(chunk):
            prompt = task.prompt(case.state, case.prev)
            if not grammar:
                prompt = type(prompt)(prompt.system, prompt.user, "")
            # A distinct sample number per case: a step drawn twice gets two independent samples.
            requests.append(SampleRequest(prompt, temperature, probe_cap + 1,
                                          sample_seed(seed, case.step, lo + i), case.step, lo + i,
                                          case.state, case.prev))
        results = await sampler.sample(requests, cancel)
        if cancel.cancelled:
            break
        for j, (case, res) in enumerate(zip(chunk, results, strict=True)):
            expected = task.validate(case.state, Parsed(case.action, case.next_state))
            assert isinstance(expected, Answer), f"the solver's own answer fails the rules: {expected}"
            if res.finish == "length":
                verdict: Answer | RedFlag = RedFlag("length", "ran past the probe cap")
            else:
                parsed = task.parse(res.text)
                verdict = parsed if isinstance(parsed, RedFlag) else task.validate(case.state,
                                                                                    parsed)
            ok: bool | None
            if isinstance(verdict, RedFlag):
                flags[verdict.kind] = flags.get(verdict.kind, 0) + 1
                ok = None
            else:
                valid += 1
                valid_lengths.append(max(res.tokens, 0))
                ok = verdict.key == expected.key
                correct += ok
                if not ok:
                    errors["wrong valid answer"] = errors.get("wrong valid answer", 0) + 1
            if len(examples) < 12 and ok is not True:
                examples.append({"step": case.step, "want": expected.key, "text": res.text[:300]})
            if on_sample is not None:
                on_sample(lo + j, ok, res.text)
    elapsed = time.perf_counter() - started
    n = valid + sum(flags.values())
    report = CalibrationReport(
        task=task.name, variant=task_variant(task), params=dict(task.params),
        model=sampler.label, temperature=temperature, grammar=grammar, samples=n, valid=valid,
        correct=correct, confidence=confidence, steps=steps, target=target,
        details={"errors": errors, "flags": flags, "examples": examples})
    report.p_hat = correct / valid if valid else None
    report.p_low = kmath.clopper_pearson_lower(correct, valid, confidence)
    report.p_wilson = kmath.wilson_lower(correct, valid, confidence)
    report.valid_rate = valid / n if n else 0.0
    if valid_lengths:
        report.len_p50 = percentile(valid_lengths, 0.5)
        report.len_p90 = percentile(valid_lengths, 0.9)
        report.len_p99 = percentile(valid_lengths, 0.99)
        report.len_max = max(valid_lengths)
    report.token_cap = token_cap_from(valid_lengths, task.default_token_cap)
    report.sec_per_sample = elapsed / n if n else 0.0
    try:
        k = kmath.k_min(report.p_low, steps, target)
    except kmath.NoGo:
        return report
    report.k_min = k
    report.exp_samples = kmath.expected_samples(report.p_low, k, report.valid_rate)
    report.projected_s = steps * report.exp_samples * report.sec_per_sample
    report.verdict = "go"
    return report
