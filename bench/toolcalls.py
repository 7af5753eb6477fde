"""Tool-call success of a local model on a fixed prompt set, through the real Session loop.

Usage: python bench/toolcalls.py [--model MODEL_ID_OR_GGUF] [--temperature 0] [--no-harness]

Sessions get the agent harness (``[harness]`` defaults) as the app's do; ``--no-harness`` measures
the bare loop, as the figures before the harness were.

For each prompt it records the first step's decision (the right tool with the right path, or no
tool when none is needed) and whether the final answer contains the expected text.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.harness.config import HarnessConfig
from app.core.harness.harness import Harness
from app.core.providers.registry import local_provider
from app.core.settings.config import SlotConfig
from app.runtime.build import default_registry
from bench.toolcall_cases import CASES, make_workspace


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0 = all cores)")
    ap.add_argument("--no-harness", action="store_true", help="the bare loop, without the harness")
    args = ap.parse_args()
    slot = (SlotConfig(path=args.model, temperature=args.temperature) if args.model.endswith(
        ".gguf") else SlotConfig(model=args.model, temperature=args.temperature))
    provider = local_provider(slot, threads=args.threads).provider
    ws = make_workspace(Path(tempfile.mkdtemp(prefix="nb-toolcalls-")))
    first_ok = answer_ok = 0
    rows = []
    t0 = time.perf_counter()
    for case in CASES:
        session = Session(provider, tools=default_registry(),
                          options=SessionOptions(workspace=ws, max_iterations=6, max_tokens=200),
                          harness=None if args.no_harness else Harness(HarnessConfig(), ws))
        calls: list[ToolCallStarted] = []

        def on(ev: Event, calls: list[ToolCallStarted] = calls) -> None:
            if isinstance(ev, ToolCallStarted):
                calls.append(ev)

        session.add_listener(on)
        t = time.perf_counter()
        outcome = await session.run_turn(case.prompt)
        dt = time.perf_counter() - t
        first = calls[0] if calls else None
        if case.tool is None:
            good_first = first is None
        else:
            path = str(first.arguments.get("path", ".")).rstrip("/") if first else ""
            good_first = bool(first and first.name == case.tool
                              and (case.path is None or path.endswith(case.path)))
        good_answer = case.answer is None or case.answer.lower() in outcome.text.lower()
        first_ok += good_first
        answer_ok += good_answer
        rows.append((case, first, good_first, good_answer, len(calls), dt, outcome.text))
        what = f"{first.name}({first.arguments})" if first else "-"
        print(f"[{len(rows)}/{len(CASES)}] {'✓' if good_first else '✗'} {'✓' if good_answer else '✗'} "
              f"{dt:5.1f}s {case.prompt[:40]} → {what[:50]} / {outcome.text[:50]!r}", flush=True)
    total = time.perf_counter() - t0
    print(f"model: {provider.model}  temperature: {args.temperature}  prompts: {len(CASES)}  "
          f"harness: {'off' if args.no_harness else 'on'}")
    print(f"{'ok1':3} {'ans':3} {'calls':5} {'s':>5}  prompt → first call / answer")
    for case, first, g1, g2, n, dt, text in rows:
        what = (f"{first.name}({first.arguments})" if first else "-")
        print(f"{'✓' if g1 else '✗':3} {'✓' if g2 else '✗':3} {n:5} {dt:5.1f}  {case.prompt[:44]:44}"
              f" → {what[:40]} / {text[:40]!r}")
    tool_cases = [r for r in rows if r[0].tool]
    plain_cases = [r for r in rows if not r[0].tool]
    print()
    print(f"first step right: {first_ok}/{len(CASES)} "
          f"(tool prompts {sum(r[2] for r in tool_cases)}/{len(tool_cases)}, "
          f"no-tool prompts {sum(r[2] for r in plain_cases)}/{len(plain_cases)})")
    print(f"final answer right: {answer_ok}/{len(CASES)}")
    print(f"total {total:.1f} s, {total / len(CASES):.1f} s per prompt")
    await provider.aclose()


if __name__ == "__main__":
    asyncio.run(main())
