"""An end-to-end task on a real local model: "create hello.py that prints hi, then run it".

Usage: python bench/hello_task.py [--model qwen2.5-coder-0.5b] [--runs 5] [--temperature 0.3]

Each run gets a fresh workspace and session with every built-in tool under an allow policy. A run
passes when hello.py exists and prints "hi", exec ran it, and the final answer quotes "hi". With
--temperature 0 every run is the same; above 0 each run uses another seed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, ToolCallFinished, ToolCallStarted
from app.core.agent.session import Session, SessionOptions
from app.core.policy.permissions import PermissionGate
from app.core.providers.base import Provider
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.providers.registry import local_provider
from app.core.settings.config import SlotConfig
from app.core.settings.tool_config import PermissionsConfig
from app.runtime.build import default_registry

PROMPT = "create hello.py that prints hi, then run it"
ALLOW = PermissionsConfig(tools={"write_file": "allow", "edit_file": "allow", "exec": "allow"})


async def one_run(provider: Provider, prompt: str) -> tuple[bool, str]:
    ws = Path(tempfile.mkdtemp(prefix="nb-hello-"))
    session = Session(provider, tools=default_registry(),
                      options=SessionOptions(workspace=ws, max_iterations=6, max_tokens=200),
                      permissions=PermissionGate(ALLOW))
    steps: list[str] = []

    def on(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            steps.append(f"{ev.name}({ev.arguments})")
        elif isinstance(ev, ToolCallFinished):
            steps.append(f"  -> {ev.content[:60]!r}{' ERR' if ev.is_error else ''}")

    session.add_listener(on)
    outcome = await session.run_turn(prompt)
    hello = ws / "hello.py"
    prints_hi = False
    if hello.exists():
        out = await asyncio.to_thread(subprocess.run, [sys.executable, str(hello)],
                                      capture_output=True, text=True, timeout=10, cwd=ws)
        prints_hi = out.stdout.strip() == "hi"
    ran = any(s.startswith("exec(") and "hello.py" in s for s in steps)
    # The answer must show the output, not just echo the request ("…that prints hi…").
    answer = re.sub(r"prints?\s+['\"]?hi\b", "", outcome.text.lower())
    quoted = re.search(r"\bhi\b", answer) is not None
    ok = prints_hi and ran and quoted
    report = (f"file {'ok' if prints_hi else 'BAD'}, exec {'ok' if ran else 'missing'}, "
              f"answer {'quotes hi' if quoted else 'no hi'}\n    " + "\n    ".join(steps)
              + f"\n    answer: {outcome.text[:120]!r}")
    return ok, report


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--temperature", type=float, default=0.3)
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--seed", type=int, default=1000, help="seed of the first run (+1 per run)")
    args = ap.parse_args()
    passed = 0
    t0 = time.perf_counter()
    for i in range(args.runs):
        slot = (SlotConfig(path=args.model, temperature=args.temperature)
                if args.model.endswith(".gguf")
                else SlotConfig(model=args.model, temperature=args.temperature))
        provider = local_provider(slot).provider
        assert isinstance(provider, LlamaInProcessProvider)
        provider.seed = args.seed + i
        t = time.perf_counter()
        ok, report = await one_run(provider, args.prompt)
        passed += ok
        print(f"run {i + 1}: {'PASS' if ok else 'FAIL'} ({time.perf_counter() - t:.0f} s) "
              f"{report}", flush=True)
        await provider.aclose()
    total = time.perf_counter() - t0
    print(f"\n{args.model} temperature {args.temperature}: {passed}/{args.runs} runs passed "
          f"({total:.0f} s total)", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
