"""``nanobot ingest PATH... --name NAME`` and ``nanobot search NAME QUERY``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from app.core.context_store.errors import VolumeError


def register_ingest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="store files or directory trees as a searchable volume")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    p.add_argument("--name", "-n", required=True, help="volume name")
    p.add_argument("--replace", action="store_true",
                   help="overwrite an existing volume that has other sources")
    p.add_argument("--max-file-mb", type=int, default=256, help="skip files larger than this")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.add_argument("--no-embed", action="store_true",
                   help="do not start the semantic index in the background (semantic extra)")
    p.set_defaults(handler=run_ingest)


def register_ask(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="answer a question from a volume: the model expands it into "
                                   "related terms, retrieval is deterministic (grep, BM25, dense), "
                                   "the model reads a few lines and follows references")
    p.add_argument("name", help="volume name")
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--model", "-m", dest="ask_model", help="model or provider (default: config)")
    p.add_argument("--window", type=int, default=3, help="lines either side of a hit")
    p.set_defaults(handler=run_ask)


def run_ask(args: argparse.Namespace) -> int:
    import asyncio

    from app.core.agent.events import Event, ToolCallStarted
    from app.core.agent.session import SessionOptions
    from app.core.context_store.store import VolumeStore
    from app.core.context_store.tools import ctx_tools
    from app.core.providers.registry import ProviderSetupError, build_provider
    from app.core.rlm.volume_reader import VolumeReader
    from app.core.settings.config import ConfigError, load_config
    from app.runtime.factory import SessionFactory

    store = VolumeStore()
    try:
        store.get(args.name)
        config = load_config()
        selection = build_provider(config, args.ask_model or args.model)
    except (VolumeError, ConfigError, ProviderSetupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    planner = VolumeReader(selection.provider, args.name, window=args.window)
    # One retrieval question: the ctx_* tools only, a short answer, nothing saved, no workers.
    factory = SessionFactory(config, planner, tools=lambda: ctx_tools(store, always=True),
                             options=SessionOptions(max_iterations=24, max_tokens=128),
                             features=())
    session = factory.new().session

    def show(ev: Event) -> None:
        if isinstance(ev, ToolCallStarted):
            print(f"→ {ev.label}", file=sys.stderr)

    session.add_listener(show)

    async def go() -> int:
        try:
            outcome = await session.run_turn(" ".join(args.question))
        finally:
            await planner.aclose()
        print(outcome.text.strip() if outcome.status == "finished" else f"error: {outcome.error}")
        return 0 if outcome.status == "finished" else 1

    code = asyncio.run(go())
    store.close()
    return code


def register_volumes(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("volumes", help="list volumes, or delete one with --rm NAME")
    p.add_argument("--rm", metavar="NAME", help="delete this volume")
    p.set_defaults(handler=run_volumes)


def run_volumes(args: argparse.Namespace) -> int:
    from app.core.context_store.describe import one_line
    from app.core.context_store.store import VolumeStore, default_root
    from app.core.context_store.versions import delete_volume

    if args.rm:
        try:
            delete_volume(default_root(), args.rm)
        except VolumeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"deleted volume {args.rm!r}")
        return 0
    metas = VolumeStore().metas()
    for m in metas:
        print(one_line(m))
    if not metas:
        print("no volumes (nanobot ingest PATH --name NAME)")
    return 0


def register_embed(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("embed", help="build a volume's semantic index now (semantic extra)")
    p.add_argument("name", help="volume name")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(handler=run_embed)


def register_search(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("search", help="search a volume (BM25 over its chunks)")
    p.add_argument("name", help="volume name")
    p.add_argument("query", nargs="+", help="words to look for")
    p.add_argument("-k", type=int, default=5, help="number of results")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.set_defaults(handler=run_search)


class Bar:
    """A progress bar on stderr: redrawn in place on a terminal, a line per phase otherwise."""

    WIDTH = 30

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.phase = ""
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        new_phase = phase != self.phase
        if new_phase and self.phase and self.tty:
            sys.stderr.write("\n")
        self.phase = phase
        if not self.tty:
            if new_phase or (total and done == total):
                sys.stderr.write(f"{phase}: {done}/{total}\n" if total else f"{phase}…\n")
            return
        if not new_phase and now - self.last < 0.1 and done != total:
            return
        self.last = now
        if total:
            filled = int(self.WIDTH * done / total)
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            sys.stderr.write(f"\r{phase:<6} {bar} {done}/{total} files")
        else:
            sys.stderr.write(f"\r{phase:<6} …")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty and self.phase and not self.quiet:
            sys.stderr.write("\n")


def run_ingest(args: argparse.Namespace) -> int:
    from app.core.context_store.ingest import ingest
    from app.core.context_store.store import VolumeStore, default_root

    if args.max_file_mb < 1:
        print("error: --max-file-mb must be at least 1", file=sys.stderr)
        return 2
    bar = Bar(args.quiet)
    started = time.perf_counter()
    try:
        report = ingest(args.paths, args.name, default_root(), replace=args.replace,
                        max_file_bytes=args.max_file_mb * 1024 * 1024, progress=bar)
    except VolumeError as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    bar.close()
    m = report.meta
    took = time.perf_counter() - started
    store = VolumeStore()
    from app.core.context_store.describe import top_level

    handle = store.get(m.name)
    files = f"{m.files:,} file" + ("" if m.files == 1 else "s")
    print(f"Volume '{m.name}': {m.chars:,} chars (~{m.approx_tokens:,} tokens), {files}, "
          f"{m.lines:,} lines, {m.chunks:,} chunks ({m.near_dup_chunks:,} near-duplicate), "
          f"in {took:.2f} s (read {report.read_s:.2f} s, index {report.index_s:.2f} s).")
    print(f"Top-level: {top_level(handle.volume)}")
    if report.incremental:
        print(f"Updated: {report.files_read} read, {report.files_unchanged} unchanged, "
              f"{report.files_removed} removed.")
    print(f"Skipped: {report.skipped_summary()}")
    for line in (report.too_large + report.unreadable)[:10]:
        print(f"  {line}")
    store.close()
    if not args.no_embed:
        _embed_in_background(m.name)
    return 0


def _embed_in_background(name: str) -> None:
    """Start ``nanobot embed NAME`` detached: the volume is usable now, dense search joins in as
    sub-chunks get embedded (ctx_info and the volumes screen show progress)."""
    import os
    import subprocess

    from app.core.context_store.dense_status import available
    from app.core.settings.paths import get_paths

    if not available():
        return
    log = get_paths().state_dir / f"embed-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app", "embed", name, "--quiet"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                start_new_session=True, env=os.environ.copy())
    print(f"Semantic index: embedding in the background (pid {proc.pid}); "
          f"ctx_info shows progress.")


def run_embed(args: argparse.Namespace) -> int:
    from app.core.context_store import dense
    from app.core.context_store.store import VolumeStore

    store = VolumeStore()
    try:
        handle = store.get(args.name)
        embedder = dense.Embedder(threads=dense.cpu_threads())
        started = time.perf_counter()

        def show(done: int, total: int) -> None:
            if not args.quiet:
                sys.stderr.write(f"\rembed {done}/{total} sub-chunks")
                sys.stderr.flush()

        done = dense.build(handle.volume.directory, embedder=embedder, progress=show)
    except VolumeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if not args.quiet:
        sys.stderr.write("\n")
    print(f"Semantic index of '{args.name}': {done} sub-chunks in "
          f"{time.perf_counter() - started:.1f} s")
    return 0


def run_search(args: argparse.Namespace) -> int:
    from app.core.context_store.search import search
    from app.core.context_store.store import VolumeStore

    query = " ".join(args.query)
    store = VolumeStore()
    try:
        handle = store.get(args.name)
        t0 = time.perf_counter()
        hits = search(handle, query, max(1, min(args.k, 50)), store.dense(args.name))
        took = (time.perf_counter() - t0) * 1000
    except VolumeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1))
        return 0
    if not hits:
        print(f"no results for {query!r} in {args.name} ({took:.1f} ms)")
        return 0
    for h in hits:
        via = "" if h.source == "bm25" else f"  [{h.source}]"
        print(f"[{h.rank}] {h.score:6.2f}  {h.path}:{h.file_line_start}  "
              f"(volume lines {h.line_start}-{h.line_end}){via}")
        print(f"      {h.best_line}: {h.best_text.strip()[:160]}")
    print(f"{len(hits)} result(s) in {took:.1f} ms")
    store.close()
    return 0
