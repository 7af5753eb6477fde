"""Generation and prompt tokens/s through Session vs bare llama-cpp-python.

Same model file, same prompt text (rendered once by the provider), same sampling, same threads. Each
run starts from an empty KV cache so prompt processing is measured in full. Prints medians over
``--runs`` alternating runs and the Session/bare ratios.

Usage: python bench/local_speed.py [--runs 3] [--max-tokens 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, TextDelta, Usage
from app.core.agent.messages import Message
from app.core.agent.session import BASE_PROMPT, Session, SessionOptions
from app.core.models.embedded import ensure_embedded
from app.core.providers.base import ProviderRequest
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.tools.base import ToolRegistry

PROMPT = ("Here is a list of server log lines:\n" + "\n".join(
    f"2026-03-0{i % 9 + 1} 10:{i:02d}:00 service-{i % 7} handled request {i * 37} in {i * 13 % 97} ms"
    for i in range(24)) + "\n\nWrite a long, detailed report about these logs, section by section.")


def bare_run(llama: object, tokens: list[int], max_tokens: int) -> tuple[float, float, int]:
    """(prompt tok/s, generation tok/s, generated tokens) for one bare streaming completion."""
    llama.reset()  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    first = last = 0.0
    n = 0
    for chunk in llama.create_completion(  # type: ignore[attr-defined]
            prompt=tokens, max_tokens=max_tokens, temperature=0.0, top_p=0.9,
            repeat_penalty=1.05, stream=True):
        if chunk["choices"][0].get("text"):
            n += 1
            last = time.perf_counter()
            if n == 1:
                first = last
    return len(tokens) / (first - t0), (n - 1) / (last - first), n


async def session_run(provider: LlamaInProcessProvider, max_tokens: int,
                      workspace: Path) -> tuple[float, float, int]:
    provider._llama.reset()
    session = Session(provider, tools=ToolRegistry(),
                      options=SessionOptions(workspace=workspace, max_tokens=max_tokens,
                                             temperature=0.0))
    stamps: list[float] = []
    usage: list[Usage] = []

    def on(ev: Event) -> None:
        if isinstance(ev, TextDelta):
            stamps.append(time.perf_counter())
        elif isinstance(ev, Usage):
            usage.append(ev)

    session.add_listener(on)
    t0 = time.perf_counter()
    await session.run_turn(PROMPT)
    n = usage[-1].completion_tokens
    prompt_tokens = usage[-1].prompt_tokens
    return prompt_tokens / (stamps[0] - t0), (n - 1) / (stamps[-1] - stamps[0]), n


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import llama_cpp

    path = ensure_embedded()
    provider = LlamaInProcessProvider(path, n_ctx=4096, n_threads=args.threads, temperature=0.0)
    provider._load_sync()
    request = ProviderRequest(messages=(Message(role="system", content=BASE_PROMPT),
                                        Message(role="user", content=PROMPT)))
    prompt_text = provider.render_prompt(request)
    bare = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=args.threads, n_batch=512,
                           verbose=False)
    tokens = bare.tokenize(prompt_text.encode(), add_bos=False, special=True)
    ws = Path(tempfile.mkdtemp(prefix="nb-speed-"))
    bare_rows, sess_rows = [], []
    bare_run(bare, tokens, 8)  # warm-up both paths (page cache, first-call costs)
    await session_run(provider, 8, ws)
    for _ in range(args.runs):
        bare_rows.append(bare_run(bare, tokens, args.max_tokens))
        sess_rows.append(await session_run(provider, args.max_tokens, ws))

    def med(rows: list[tuple[float, float, int]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(f"model {path.name}, threads {args.threads}, prompt {len(tokens)} tokens, "
          f"max_tokens {args.max_tokens}, runs {args.runs} (median)")
    print(f"{'':10} {'prompt tok/s':>13} {'gen tok/s':>10} {'tokens':>7}")
    print(f"{'bare':10} {med(bare_rows, 0):13.1f} {med(bare_rows, 1):10.2f} {med(bare_rows, 2):7.0f}")
    print(f"{'Session':10} {med(sess_rows, 0):13.1f} {med(sess_rows, 1):10.2f} {med(sess_rows, 2):7.0f}")
    print(f"ratio Session/bare: prompt {med(sess_rows, 0) / med(bare_rows, 0):.3f}, "
          f"generation {med(sess_rows, 1) / med(bare_rows, 1):.3f}")
    bare.close()
    await provider.aclose()


if __name__ == "__main__":
    asyncio.run(main())
