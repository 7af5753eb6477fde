"""Traces as training data: chat-format JSONL for a LoRA trained elsewhere (docs/LEARNING.md).

Each judged turn becomes one line ``{"messages": [...], "tools_used": [...], "meta": {...}}`` in
the OpenAI chat fine-tuning shape: the user's request, each tool call as an assistant message
with ``tool_calls`` followed by its ``tool`` result, then the final answer. Successes go to the
output file; failures go to ``<name>.negatives.jsonl`` (for preference training, or to leave
out). Turns not exported before come first, ordered by *surprise* (how unexpected the outcome
was for its kind: a success where the kind usually fails, a run far off the kind's usual step
count) and then *quality* (a success in fewer steps than its kind's median is worth more).
Exported turns are marked in the stats database so the next export brings new ones.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.learning.stats import StatsDB
from app.core.learning.traces import TraceStore, TraceView


@dataclass(frozen=True)
class ExportResult:
    positives: int
    negatives: int
    path: Path
    negatives_path: Path
    skipped_unjudged: int


def chat_example(view: TraceView, system: str = "") -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": view.task})
    for n, call in enumerate(view.calls, start=1):
        call_id = f"call_{n}"
        messages.append({"role": "assistant", "content": "", "tool_calls": [{
            "id": call_id, "type": "function",
            "function": {"name": call.get("name", ""),
                         "arguments": json.dumps(call.get("args", {}), ensure_ascii=False)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id,
                         "content": str(call.get("result", call.get("summary", "")))})
    messages.append({"role": "assistant", "content": str(view.record.get("answer", ""))})
    return {"messages": messages,
            "tools_used": sorted({str(c.get("name", "")) for c in view.calls}),
            "meta": {"trace": view.id, "category": view.category, "success": view.success,
                     "judged_by": view.judged_by, "steps": view.steps,
                     "seconds": view.seconds, "model": view.record.get("model", "")}}


def _scores(views: list[TraceView]) -> dict[str, tuple[float, float]]:
    """trace id → (surprise, quality)."""
    by_cat: dict[str, list[TraceView]] = {}
    for v in views:
        by_cat.setdefault(v.category, []).append(v)
    out: dict[str, tuple[float, float]] = {}
    for group in by_cat.values():
        rate = sum(bool(v.success) for v in group) / len(group)
        median_steps = statistics.median(max(1, v.steps) for v in group)
        for v in group:
            steps = max(1, v.steps)
            outcome_surprise = (1 - rate) if v.success else rate
            step_surprise = min(1.0, abs(steps - median_steps) / median_steps)
            quality = (min(1.0, median_steps / steps) if v.success else 0.0)
            out[v.id] = (round(outcome_surprise + 0.5 * step_surprise, 4), round(quality, 4))
    return out


def export_chat(traces: TraceStore, stats: StatsDB, out: Path, *, limit: int = 0,
                include_exported: bool = False, system: str = "") -> ExportResult:
    views = [v for v in traces.turns(kinds=("turn",)) if v.task]
    judged = [v for v in views if v.success is not None]
    exported = {r.trace_id for r in stats.runs() if r.exported}
    scores = _scores(judged)
    pool = [v for v in judged if include_exported or v.id not in exported]
    pool.sort(key=lambda v: (v.id in exported, -scores[v.id][0], -scores[v.id][1], -v.ts))
    if limit:
        pool = pool[:limit]
    neg_path = out.with_name(out.name.removesuffix(".jsonl") + ".negatives.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    pos = neg = 0
    with out.open("w", encoding="utf-8") as good, neg_path.open("w", encoding="utf-8") as bad:
        for v in pool:
            example = chat_example(v, system)
            example["meta"].update(surprise=scores[v.id][0], quality=scores[v.id][1])
            line = json.dumps(example, ensure_ascii=False) + "\n"
            if v.success:
                good.write(line)
                pos += 1
            else:
                bad.write(line)
                neg += 1
    stats.mark_exported([v.id for v in pool])
    return ExportResult(pos, neg, out, neg_path, len(views) - len(judged))
