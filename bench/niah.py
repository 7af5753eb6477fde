"""Needle in a haystack through the agent, per task kind, with the default local model as reader.

Usage:
    python bench/niah.py --tokens 128000,1000000 --per-kind 10 --dense --scale-tokens 0
    python bench/niah.py --tokens 200000 --per-kind 3 --scale-tokens 0      # a short run
    python bench/niah.py --reader planner ...   # the one-hop retrieval-first planner (baseline)

Kinds: literal and low_overlap (NoLiMa-style: no content word shared with the needle), and the
RULER-style multi_key, multi_value, multi_hop (variable tracking), aggregation (count / most
frequent) and absent (the answer must say "not found"); see bench/ruler_tasks.py.

Per question a fresh Session runs with the volume reader (app/core/rlm/volume_reader.py): the
model first expands a question without an identifier into the terms it implies, then ctx_grep /
ctx_search (fused by rank, dense included with --dense) and ctx_slice run deterministically, and
the model answers from the lines read, hopping to another identifier when its answer names one.
A question counts as found when every gold value appears in the answer as a whole token
(RULER's string_match_all); an absent one when the answer says "not found".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import Event, ToolCallFinished
from app.core.agent.session import Session, SessionOptions
from app.core.context_store.ingest import ingest
from app.core.context_store.search import search
from app.core.context_store.store import VolumeStore
from app.core.context_store.tools import ctx_tools
from app.core.models.embedded import ensure_embedded
from app.core.providers.llama_inprocess import LlamaInProcessProvider
from app.core.tools.base import ToolRegistry
from bench.niah_haystack import Haystack, Needle, build

CHARS_PER_TOKEN_GUESS = 3.4


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 0.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def count_tokens(model: Path, directory: Path) -> int:
    import llama_cpp

    vocab = llama_cpp.Llama(model_path=str(model), vocab_only=True, verbose=False)
    total = 0
    for f in sorted(directory.rglob("*")):
        if f.is_file():
            total += len(vocab.tokenize(f.read_bytes(), add_bos=False, special=False))
    vocab.close()
    return total


def make(directory: Path, tokens: int, per_kind: int, model: Path,
         seed: int) -> tuple[Haystack, int]:
    from bench.ruler_tasks import KINDS

    chars = int(tokens * CHARS_PER_TOKEN_GUESS)
    low = min(per_kind, 29)
    while True:
        hay = build(directory, chars, per_kind + low, seed=seed,
                    low_overlap_share=low / (per_kind + low), ruler=dict.fromkeys(KINDS, per_kind))
        n_tokens = count_tokens(model, directory)
        if n_tokens >= tokens:
            return hay, n_tokens
        for f in hay.files:  # too few tokens: grow and rebuild
            (directory / f).unlink()
        chars = int(chars * tokens / n_tokens * 1.02)


def load() -> str:
    try:
        return os.getloadavg().__repr__()
    except OSError:
        return "?"


def found(answer: str, needle: Needle) -> bool:
    if needle.kind == "absent":
        return "not found" in answer.lower()
    if any(w.lower() in answer.lower() for w in needle.wrong):  # naming every candidate
        return False
    return all(re.search(r"(?<![\w-])" + re.escape(a.lower()) + r"(?![\w-])", answer.lower())
               for a in needle.answers)


async def ask(provider: LlamaInProcessProvider, store: VolumeStore, volume: str,
              needle: Needle, window: int, reader: str = "volume") -> dict[str, Any]:
    from app.core.context_store.planner import RetrievalFirstProvider
    from app.core.rlm.volume_reader import VolumeReader

    planner = (VolumeReader(provider, volume, window=window) if reader == "volume"
               else RetrievalFirstProvider(provider, volume, window=window))
    session = Session(planner, tools=ToolRegistry(ctx_tools(store, always=True)),
                      options=SessionOptions(max_iterations=24, max_tokens=64))
    tool_times: dict[str, float] = {}
    calls: list[str] = []

    def listen(ev: Event) -> None:
        if isinstance(ev, ToolCallFinished):
            tool_times[ev.name] = tool_times.get(ev.name, 0.0) + ev.duration
            calls.append(ev.name)

    session.add_listener(listen)
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = await session.run_turn(needle.question)
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    search_s = tool_times.get("ctx_grep", 0.0) + tool_times.get("ctx_search", 0.0)
    answer = outcome.text.strip()
    return {
        "id": needle.id, "kind": needle.kind, "depth": needle.depth, "question": needle.question,
        "answer": answer, "gold": needle.answers,
        "found": found(answer, needle),
        "retrieved": needle.kind == "absent" or all(a in planner.last_prompt
                                                     for a in needle.answers),
        "calls": calls, "search_s": search_s, "read_s": total - search_s, "total_s": total,
        "cpu_s": cpu,
    }


def summarise(rows: list[dict[str, Any]], label: str) -> dict[str, Any]:
    n = len(rows)
    k = sum(bool(r["found"]) for r in rows)
    kr = sum(bool(r["retrieved"]) for r in rows)
    lo, hi = wilson(k, n)
    def times(key: str) -> list[float]:
        return [float(r[key]) for r in rows]
    out = {"subset": label, "n": n, "found": k, "recall": k / n if n else 0.0,
           "wilson95": [lo, hi], "retrieval_recall": kr / n if n else 0.0}
    for key in ("search_s", "read_s", "total_s", "cpu_s"):
        out[key] = {"p50": statistics.median(times(key)) if n else 0.0, "p95": pct(times(key), 0.95)}
    return out


def scale_run(tokens: int, model: Path, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="niah-scale-") as tmp:
        hay_dir = Path(tmp) / "hay"
        hay = build(hay_dir, int(tokens * CHARS_PER_TOKEN_GUESS), 100, seed=seed + 1)
        root = Path(tmp) / "volumes"
        report = ingest([hay_dir], "scale", root)
        store = VolumeStore(root)
        handle = store.get("scale")
        lat = []
        for nd in hay.needles:
            t = time.perf_counter()
            search(handle, nd.question, 3)
            lat.append(time.perf_counter() - t)
        g = time.perf_counter()
        handle.volume.grep(hay.needles[-1].answer, max_lines=5)
        grep_s = time.perf_counter() - g
        store.close()
        return {"chars": hay.chars, "approx_tokens": int(hay.chars / CHARS_PER_TOKEN_GUESS),
                "ingest_s": report.read_s, "index_s": report.index_s,
                "chunks": report.meta.chunks, "search_p50_ms": statistics.median(lat) * 1000,
                "search_p95_ms": pct(lat, 0.95) * 1000, "grep_ms": grep_s * 1000}


async def run_size(tokens: int, args: argparse.Namespace, model: Path,
                   provider: LlamaInProcessProvider) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="niah-") as tmp:
        hay_dir = Path(tmp) / "haystack"
        hay, n_tokens = make(hay_dir, tokens, args.per_kind, model, args.seed)
        print(f"haystack: {n_tokens:,} tokens (model tokenizer), {hay.chars:,} chars, "
              f"{len(hay.files)} files, {len(hay.needles)} questions, {hay.distractors} "
              f"distractor/extra lines", flush=True)
        root = Path(tmp) / "volumes"
        report = ingest([hay_dir], "hay", root)
        store = VolumeStore(root)
        handle = store.get("hay")
        for nd in hay.needles:
            hit = handle.volume.grep(nd.text, max_lines=1).hits
            nd.line = hit[0].line if hit else 0
            nd.depth = nd.line / handle.volume.n_lines
        print(f"ingest {report.read_s:.2f} s, index {report.index_s:.2f} s "
              f"({report.meta.chunks} chunks, {report.meta.lines:,} lines)", flush=True)
        embed_s = 0.0
        if args.dense:
            from app.core.context_store import dense

            e0 = time.perf_counter()
            dense.build(handle.volume.directory,
                        embedder=dense.Embedder(threads=args.threads or dense.cpu_threads()))
            embed_s = time.perf_counter() - e0
            print(f"embedded {dense.status_counts(handle.volume.directory)[1]} sub-chunks in "
                  f"{embed_s:.1f} s", flush=True)
        rows = []
        q_start = time.perf_counter()
        wanted = {k.strip() for k in args.kinds.split(",") if k.strip()}
        asked = [nd for nd in hay.needles if not wanted or nd.kind in wanted]
        for i, nd in enumerate(asked, 1):
            row = await ask(provider, store, "hay", nd, args.window, args.reader)
            rows.append(row)
            mark = "ok " if row["found"] else "MISS"
            print(f"[{i:3}/{len(asked)}] {mark} {nd.kind:<11} depth {nd.depth:.2f} "
                  f"{row['total_s']:.2f}s (cpu {row['cpu_s']:.1f}s)  {nd.question[:60]!r} -> "
                  f"{str(row['answer'])[:50]!r}",
                  flush=True)
        questions_s = time.perf_counter() - q_start
        store.close()
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    return {
        "tokens": n_tokens, "chars": hay.chars, "files": len(hay.files),
        "needles": len(hay.needles), "distractors": hay.distractors, "window": args.window,
        "ingest_s": report.read_s, "index_s": report.index_s, "embed_s": embed_s,
        "questions_s": questions_s, "all": summarise(rows, "all"),
        "kinds": {k: summarise([r for r in rows if r["kind"] == k], k) for k in kinds},
        "by_depth": {f"{d / 10:.1f}": summarise([r for r in rows if d / 10 <= float(r["depth"])
                                                  < (d + 1) / 10], "")["recall"] for d in range(10)},
        "rows": rows,
    }


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tokens", default="128000,1000000",
                    help="haystack sizes in model tokens, comma-separated")
    ap.add_argument("--per-kind", type=int, default=10, help="questions of each task kind")
    ap.add_argument("--window", type=int, default=3, help="lines either side given to the reader")
    ap.add_argument("--reader", choices=("volume", "planner"), default="volume")
    ap.add_argument("--scale-tokens", type=int, default=0,
                    help="also time ingest/index/search at this size (0: skip)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dense", action="store_true",
                    help="build the semantic index after ingest (needs the semantic extra) so "
                         "searches fuse BM25 and dense ranks")
    ap.add_argument("--out", type=Path, help="write the full results as JSON here")
    ap.add_argument("--model", default="",
                    help="the reader's model (the rlm slot), a bundled model id; default: the "
                         "default model")
    ap.add_argument("--kinds", default="",
                    help="ask only these task kinds (comma-separated, e.g. low_overlap,absent); "
                         "the haystack is the same")
    args = ap.parse_args()
    model = ensure_embedded()
    run_start = time.perf_counter()
    result: dict[str, Any] = {"load_start": load(), "reader": args.reader, "dense": args.dense,
                              "sizes": []}
    reader_model = ensure_embedded(args.model) if args.model else model
    result["model"] = reader_model.name
    provider = LlamaInProcessProvider(reader_model, n_ctx=2048, n_threads=args.threads,
                                      temperature=0.0, seed=args.seed)
    await provider.load()
    for tokens in [int(t) for t in args.tokens.split(",") if t.strip()]:
        size = await run_size(tokens, args, model, provider)
        result["sizes"].append(size)
        print_size(size)
    await provider.aclose()
    if args.scale_tokens:
        print(f"scale run at ~{args.scale_tokens:,} tokens …", flush=True)
        result["scale"] = scale_run(args.scale_tokens, model, args.seed)
    result["run_s"] = time.perf_counter() - run_start
    result["load_end"] = load()
    print(f"\nload average at start {result['load_start']}, at end {result['load_end']}; "
          f"whole run {result['run_s']:.1f} s")
    if "scale" in result:
        sc = result["scale"]
        print(f"scale: ~{sc['approx_tokens']:,} tokens ({sc['chars']:,} chars): ingest "
              f"{sc['ingest_s']:.2f} s, index {sc['index_s']:.2f} s ({sc['chunks']} chunks), "
              f"search p50 {sc['search_p50_ms']:.1f} ms / p95 {sc['search_p95_ms']:.1f} ms, grep "
              f"{sc['grep_ms']:.1f} ms")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


def print_size(r: dict[str, Any]) -> None:
    print(f"\n== needle in a haystack: {r['tokens']:,} tokens ==")
    print(f"{r['files']} files, {r['needles']} questions, {r['distractors']} extra/look-alike "
          f"lines; ingest {r['ingest_s']:.2f} s + index {r['index_s']:.2f} s"
          + (f" + embed {r['embed_s']:.1f} s" if r["embed_s"] else "")
          + f"; questions {r['questions_s']:.1f} s")
    print(f"{'kind':<12} {'n':>4} {'recall':>7} {'wilson 95%':>15} {'retrieved':>9} "
          f"{'search p50/p95 ms':>18} {'total p50/p95 s':>16} {'cpu p50/p95 s':>14}")
    for key, s in [("all", r["all"]), *r["kinds"].items()]:
        lo, hi = s["wilson95"]
        print(f"{key:<12} {s['n']:>4} {s['recall']:>7.1%} {f'{lo:.1%}-{hi:.1%}':>15} "
              f"{s['retrieval_recall']:>9.1%} "
              f"{s['search_s']['p50'] * 1000:>8.1f}/{s['search_s']['p95'] * 1000:<8.1f} "
              f"{s['total_s']['p50']:>7.2f}/{s['total_s']['p95']:<7.2f} "
              f"{s['cpu_s']['p50']:>6.2f}/{s['cpu_s']['p95']:<6.2f}")
    print("recall by depth decile: " + ", ".join(
        f"{k}: {v:.0%}" for k, v in r["by_depth"].items()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
