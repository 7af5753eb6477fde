"""Large tool outputs answered two ways: the gate's briefing to the main model, or the RLM delegate.

Usage:
    python bench/rlm.py --questions 30            # build logs, test runs, web pages, CSVs
    python bench/rlm.py --questions 8 --n-ctx 4096

Each question runs one Session turn on the default local model: the first step calls a tool whose
output is 10K-200K characters (generated with one planted fact: an undefined symbol, a failing
test, a start time, a customer's amount), then the model answers, with read_file on the ``@outN``
handle for drill-down. Path (a) has no reader: the Context Gate's briefing goes in. Path (b) has
the reader installed (app/core/rlm/gate.py) on the same model. Reported per path: accuracy (the
gold value in the answer), seconds per question, and the main model's context tokens (the prompt
tokens of every main-model call, summed, and the tokens of the output as it entered the main
context: the briefing or the finding), plus the delegate's own tokens for (b).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import ToolCall, new_call_id
from app.core.agent.session import Session, SessionOptions
from app.core.models.embedded import ensure_embedded
from app.core.providers.base import (
    FinishChunk,
    Provider,
    ProviderEvent,
    ProviderRequest,
    ToolCallChunk,
    ToolSpec,
    UsageChunk,
)
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.rlm.events import DelegateFinished
from app.core.rlm.gate import make_reader
from app.core.settings.config import RlmConfig
from app.core.tools.base import ToolContext, ToolRegistry, ToolResult
from app.core.tools.files import ReadFile
from bench.niah import wilson


@dataclass
class Case:
    kind: str
    tool: str
    args: dict[str, Any]
    output: str
    question: str
    gold: str
    # A shorter answer that names it as well: the failed test's own name, which no other test
    # of the run has ("test_split_892" for tests/test_34.py::test_split_892).
    also: str = ""


def build_log(rng: random.Random, chars: int) -> Case:
    sym = f"{rng.choice(['parse', 'emit', 'load', 'hash'])}_{rng.choice(['frame', 'block', 'row'])}" \
          f"_v{rng.randint(2, 9)}"
    lines: list[str] = []
    i = 0
    while sum(len(x) + 1 for x in lines) < chars:
        i += 1
        lines.append(f"[{i:5d}/9999] CC src/mod{i % 97}/file_{i}.c -o build/file_{i}.o"
                     + (f"  warning: unused variable 'tmp{i}'" if i % 37 == 0 else ""))
    at = rng.randrange(len(lines) // 3, len(lines))
    lines.insert(at, f"ld: error: undefined reference to `{sym}' (referenced by build/file_{at}.o)")
    lines.append("make: *** [Makefile:42: all] Error 1")
    return Case("build log", "exec", {"command": "make"}, "\n".join(lines),
                "Run the build and tell me which symbol is undefined.", sym)


def test_run(rng: random.Random, chars: int) -> Case:
    lines: list[str] = []
    i = 0
    while sum(len(x) + 1 for x in lines) < chars:
        i += 1
        lines.append(f"tests/test_{i % 53}.py::test_case_{i} PASSED{' ' * (i % 7)}[{i % 100:3d}%]")
    bad = f"tests/test_{rng.randint(1, 52)}.py::test_{rng.choice(['merge', 'split', 'sync'])}_" \
          f"{rng.randint(100, 999)}"
    lines.insert(rng.randrange(len(lines)), f"{bad} FAILED")
    lines.append(f"FAILED {bad} - AssertionError: expected 3 rows, got 2")
    lines.append(f"==== 1 failed, {i} passed in {rng.randint(30, 300)}.12s ====")
    return Case("test run", "exec", {"command": "pytest"}, "\n".join(lines),
                "Run the tests and tell me which test failed.", bad, also=bad.split("::")[1])


def web_page(rng: random.Random, chars: int) -> Case:
    hour = f"{rng.randint(8, 11)}:{rng.choice(['00', '15', '30', '45'])}"
    para = ("The summit gathers engineers and researchers for talks, workshops and hallway "
            "conversations about distributed systems, storage and reliability. ")
    lines = ["Title: Northwind Systems Summit", "URL: https://summit.example/program"]
    n = 0
    while sum(len(x) + 1 for x in lines) < chars:
        n += 1
        lines.append(f"## Session {n}: track {n % 5}")
        lines.append(para * rng.randint(1, 3))
    lines.insert(rng.randrange(3, len(lines)), f"The opening keynote starts at {hour} in Hall A.")
    return Case("web page", "web_fetch", {"url": "https://summit.example/program"},
                "\n".join(lines), "Fetch the summit program: what time does the opening keynote "
                                  "start?", hour)


def csv_table(rng: random.Random, chars: int) -> Case:
    lines = ["id,customer,city,amount"]
    names = [f"cust{k:05d}" for k in range(100_000)]
    rng.shuffle(names)
    k = 0
    while sum(len(x) + 1 for x in lines) < chars:
        lines.append(f"{k + 1},{names[k]},{rng.choice(['Oslo', 'Lyon', 'Turin'])},"
                     f"{rng.randint(10, 9999)}.{rng.randint(0, 99):02d}")
        k += 1
    row = lines[rng.randrange(1, len(lines))].split(",")
    return Case("CSV", "exec", {"command": "cat orders.csv"}, "\n".join(lines),
                f"Show orders.csv: what is the amount for customer {row[1]}?", row[3])


MAKERS: list[Callable[[random.Random, int], Case]] = [build_log, test_run, web_page, csv_table]


def cases(n: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    sizes = [10_000, 30_000, 60_000, 100_000, 200_000]
    return [MAKERS[i % len(MAKERS)](rng, sizes[(i // len(MAKERS)) % len(sizes)]) for i in range(n)]


class Output:
    """The case's tool: returns the generated output."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.spec = ToolSpec(case.tool, "run it", {"type": "object", "properties": {
            k: {"type": "string"} for k in case.args}})
        self.read_only = True

    def label(self, args: dict[str, Any]) -> str:
        return f"{self.case.tool} {args}"

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(self.case.output)


class Main:
    """The main model, except that its first step of a turn is the case's tool call (the bench
    measures reading the output, not picking the tool); counts its prompt tokens."""

    def __init__(self, inner: Provider, case: Case) -> None:
        self.inner, self.case = inner, case
        self.name, self.model = "bench-main", inner.model
        self.capabilities = inner.capabilities
        self.prompt_tokens = 0
        self.calls = 0

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        if not any(m.role == "tool" for m in request.messages):
            yield ToolCallChunk(ToolCall(new_call_id(), self.case.tool, dict(self.case.args)))
            yield FinishChunk("tool_calls")
            return
        self.calls += 1
        seen = 0
        async for ev in self.inner.stream(request, cancel):
            if isinstance(ev, UsageChunk):
                seen = max(seen, ev.prompt_tokens)
            yield ev
        self.prompt_tokens += seen

    async def aclose(self) -> None:
        pass


class Counting:
    """The delegate's provider (the same model): counts its prompt tokens too."""

    def __init__(self, inner: Provider) -> None:
        self.inner, self.name, self.model = inner, "bench-rlm", inner.model
        self.capabilities = inner.capabilities
        self.prompt_tokens = 0

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        seen = 0
        async for ev in self.inner.stream(request, cancel):
            if isinstance(ev, UsageChunk):
                seen = max(seen, ev.prompt_tokens)
            yield ev
        self.prompt_tokens += seen

    async def aclose(self) -> None:
        pass


async def run_case(model: LlamaInProcessProvider, case: Case, delegate: bool, workspace: Path,
                   scale: float) -> dict[str, Any]:
    main = Main(model, case)
    rlm = Counting(model)
    reader = make_reader(lambda: rlm, RlmConfig(budget_scale=scale)) if delegate else None
    session = Session(main, tools=ToolRegistry([Output(case), ReadFile()]),
                      options=SessionOptions(workspace=workspace, max_iterations=4,
                                             max_tokens=96), auto_approve=True, reader=reader)
    rounds: list[int] = []
    if delegate:
        session.add_listener(lambda ev: rounds.append(ev.rounds)
                             if isinstance(ev, DelegateFinished) and not ev.error else None)
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = await session.run_turn(case.question)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    answer = outcome.text.strip()
    # What the case's output took of the main model's context: the first tool result as the
    # main model saw it (the briefing, or the reader's finding), in the model's own tokens.
    first = next((m.content for m in session.history if m.role == "tool"), "")
    result_tokens = model.count_tokens(first) if first else 0
    return {"kind": case.kind, "chars": len(case.output), "delegate": delegate,
            "gold": case.gold, "answer": answer[:200],
            "ok": case.gold in answer or bool(case.also and case.also in answer),
            "ok_strict": case.gold in answer,
            "seconds": seconds, "cpu_s": cpu, "main_tokens": main.prompt_tokens,
            "main_calls": main.calls, "result_tokens": result_tokens,
            "rlm_tokens": rlm.prompt_tokens, "rounds": sum(rounds)}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    k = sum(r["ok"] for r in rows)
    secs = sorted(r["seconds"] for r in rows)
    return {"n": n, "correct": k, "accuracy": k / n if n else 0.0, "wilson95": wilson(k, n),
            "correct_strict": sum(r.get("ok_strict", r["ok"]) for r in rows),
            "seconds_p50": statistics.median(secs) if secs else 0.0,
            "seconds_p95": secs[min(n - 1, int(0.95 * n))] if secs else 0.0,
            "cpu_p50": statistics.median(r["cpu_s"] for r in rows) if rows else 0.0,
            "main_tokens_mean": statistics.mean(r["main_tokens"] for r in rows) if rows else 0,
            "result_tokens_mean": statistics.mean(r["result_tokens"] for r in rows) if rows else 0,
            "rlm_tokens_mean": statistics.mean(r["rlm_tokens"] for r in rows) if rows else 0}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--questions", type=int, default=30)
    ap.add_argument("--n-ctx", type=int, default=4096, help="the main model's window")
    ap.add_argument("--budget-scale", type=float, default=RlmConfig().budget_scale)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--kinds", default="",
                    help="run only these kinds of the --questions cases (comma-separated: "
                         "'build log', 'test run', 'web page', 'CSV')")
    ap.add_argument("--paths", default="briefing,delegate",
                    help="which paths to run (briefing, delegate or both)")
    args = ap.parse_args()
    load_start = os.getloadavg()
    model = LlamaInProcessProvider(ensure_embedded(), n_ctx=args.n_ctx, n_threads=args.threads,
                                   temperature=0.0, seed=args.seed)
    await model.load()
    rows: list[dict[str, Any]] = []
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rlm-bench-") as tmp:
        kinds = {k.strip() for k in args.kinds.split(",") if k.strip()}
        paths = [p == "delegate" for p in ("briefing", "delegate") if p in args.paths]
        for i, case in enumerate(cases(args.questions, args.seed), 1):
            if kinds and case.kind not in kinds:
                continue
            for delegate in paths:
                row = await run_case(model, case, delegate, Path(tmp), args.budget_scale)
                rows.append(row)
                print(f"[{i:2}/{args.questions}] {'rlm ' if delegate else 'brief'} "
                      f"{'ok ' if row['ok'] else 'MISS'} {case.kind:<9} {len(case.output):>7,} "
                      f"chars {row['seconds']:6.1f}s (cpu {row['cpu_s']:.1f}s) "
                      f"main {row['main_tokens']:>5} tok (result {row['result_tokens']:>4}) "
                      f"rlm {row['rlm_tokens']:>5} tok -> {row['answer'][:50]!r} "
                      f"(gold {case.gold!r})", flush=True)
    await model.aclose()
    result = {"load_start": load_start, "load_end": os.getloadavg(), "n_ctx": args.n_ctx,
              "briefing": summary([r for r in rows if not r["delegate"]]),
              "delegate": summary([r for r in rows if r["delegate"]]), "rows": rows}
    b, d = result["briefing"], result["delegate"]
    print(f"\nload average at start {load_start}, at end {result['load_end']}")
    print(f"{'path':<9} {'n':>3} {'accuracy':>9} {'wilson 95%':>13} {'s p50/p95':>13} "
          f"{'cpu p50':>8} {'main ctx tok':>12} {'result tok':>10} {'rlm tok':>8}")
    for name, s in (("briefing", b), ("delegate", d)):
        lo, hi = s["wilson95"]
        print(f"{name:<9} {s['n']:>3} {s['accuracy']:>9.1%} {f'{lo:.0%}-{hi:.0%}':>13} "
              f"{s['seconds_p50']:>6.1f}/{s['seconds_p95']:<6.1f} {s['cpu_p50']:>8.1f} "
              f"{s['main_tokens_mean']:>12.0f} {s['result_tokens_mean']:>10.0f} "
              f"{s['rlm_tokens_mean']:>8.0f}")
    if b["main_tokens_mean"]:
        print(f"delegate/briefing main-model context tokens: "
              f"{d['main_tokens_mean'] / b['main_tokens_mean']:.0%} (all main-model prompts "
              f"summed), {d['result_tokens_mean'] / max(1, b['result_tokens_mean']):.0%} (the "
              "output as it entered the main context)")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    asyncio.run(main())
