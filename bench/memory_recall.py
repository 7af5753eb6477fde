"""Long-term memory on the default model: 20 questions whose answers were said in earlier sessions.

Usage: python bench/memory_recall.py [--conditions off,on,briefing] [--limit N] [--max-wall S]

Earlier sessions: four sessions of five user statements each, run through the real runtime (the
same build_runtime a headless run uses) with a scripted model that keeps each statement with the
``remember`` tool and answers "Noted." — so the memory database and the past-session index hold
exactly what a session whose model remembered would leave. Then each question is asked in a fresh
session on the default model (in-process, temperature 0):

- off: ``[memory] enabled = false`` — no tools, no notes, no briefing;
- on: memory tools and auto-recall (facts matching the question noted before it), no briefing;
- briefing: as on, plus the memory briefing, built once by the default model as memory model.

Question sessions are private, so one question's answer never becomes the next one's memory.
An answer is right when it contains the expected text (case-insensitive). Prompt tokens are the
model's own counts: the first request of each question, and all requests of its turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (what the user said in an earlier session, the fact kept, the question, accepted answers)
CASES: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("My cat is called Miso.", "The user's cat is called Miso.",
     "What is my cat called?", ("miso",)),
    ("Our staging server is at 10.4.2.17.", "The staging server's IP address is 10.4.2.17.",
     "What is the IP address of our staging server?", ("10.4.2.17",)),
    ("I live in Lyon.", "The user lives in Lyon.", "Which city do I live in?", ("lyon",)),
    ("The project's database is PostgreSQL 16.", "The project's database is PostgreSQL 16.",
     "Which database does the project use?", ("postgres",)),
    ("My daughter's name is Ines.", "The user's daughter is named Ines.",
     "What is my daughter's name?", ("ines",)),
    ("We deploy every Thursday.", "Deploys happen every Thursday.",
     "On which day of the week do we deploy?", ("thursday",)),
    ("The API listens on port 8443.", "The API listens on port 8443.",
     "Which port does the API listen on?", ("8443",)),
    ("My favourite editor is Helix.", "The user's favourite editor is Helix.",
     "What is my favourite editor?", ("helix",)),
    ("Our CI runs on Buildkite.", "The project's CI runs on Buildkite.",
     "Which CI service do we use?", ("buildkite",)),
    ("I'm allergic to peanuts.", "The user is allergic to peanuts.",
     "What am I allergic to?", ("peanut",)),
    ("The release branch is called stable-2.", "The release branch is named stable-2.",
     "What is the name of the release branch?", ("stable-2",)),
    ("My manager is Priya Natarajan.", "The user's manager is Priya Natarajan.",
     "Who is my manager?", ("priya",)),
    ("Our logs go to Loki.", "The project's logs are shipped to Loki.",
     "Where do our logs go?", ("loki",)),
    ("I prefer tabs over spaces.", "The user prefers tabs over spaces for indentation.",
     "Do I prefer tabs or spaces for indentation?", ("tabs",)),
    ("The product is code-named Bluebird.", "The product's code name is Bluebird.",
     "What is the product's code name?", ("bluebird",)),
    ("My birthday is on March 3rd.", "The user's birthday is on March 3rd.",
     "When is my birthday?", ("march 3", "3 march", "3rd of march", "march 3rd")),
    ("We pin Python to 3.11.7.", "The project pins Python to version 3.11.7.",
     "Which Python version does the project pin?", ("3.11.7",)),
    ("My dog is a beagle named Rusty.", "The user's dog is a beagle named Rusty.",
     "What is my dog's name?", ("rusty",)),
    ("The office wifi network is called Nimbus-5G.", "The office wifi network is Nimbus-5G.",
     "What is the office wifi network called?", ("nimbus",)),
    ("Our on-call rotation changes on Mondays.", "The on-call rotation changes every Monday.",
     "On which day does the on-call rotation change?", ("monday",)),
]
SESSIONS = 4  # earlier sessions the facts are spread over


@dataclass
class Row:
    question: str
    answer: str
    right: bool
    first_prompt: int
    all_prompt: int
    recall_calls: int
    seconds: float
    cpu_s: float  # this process's CPU seconds (the model runs in it): load-independent-ish


@dataclass
class Condition:
    name: str
    rows: list[Row] = field(default_factory=list)
    briefing_words: int = 0


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime unavailable"


async def seed(ws: Path) -> None:
    """The earlier sessions, on a scripted model that keeps each statement."""
    from app.core.providers.scripted import ScriptedProvider, ScriptedReply
    from app.core.settings.config import Config, MemoryConfig
    from app.runtime.build import build_runtime
    from app.runtime.memory import close_memory

    per = (len(CASES) + SESSIONS - 1) // SESSIONS
    for s in range(SESSIONS):
        chunk = CASES[s * per:(s + 1) * per]
        provider = ScriptedProvider()
        for _said, fact, _q, _a in chunk:
            provider.enqueue(ScriptedReply.call("remember", fact=fact))
            provider.enqueue("Noted.")
        rt = build_runtime(provider=provider, workspace=str(ws), persist=True,
                           config=Config(memory=MemoryConfig(bulletin=False)))
        session = rt.factory.new().session
        for said, _fact, _q, _a in chunk:
            await session.run_turn(f"{said} Please remember that.")
        await close_memory(rt.memory)


async def ask(provider: object, ws: Path, condition: str, question: str,
              answers: tuple[str, ...]) -> Row:
    from app.core.agent.events import Event, ToolCallStarted, Usage
    from app.core.settings.config import AgentConfig, Config, MemoryConfig
    from app.runtime.build import build_runtime
    from app.runtime.memory import close_memory

    memory = MemoryConfig(enabled=condition != "off", bulletin=condition == "briefing",
                          bulletin_delay_s=3600.0)
    config = Config(agent=AgentConfig(max_iterations=4, max_tokens=200), memory=memory)
    rt = build_runtime(provider=provider, workspace=str(ws), persist=True,  # type: ignore[arg-type]
                       config=config)
    session = rt.factory.new().session
    hook = rt.memory
    if hook is not None:
        hook.set_private(session, True)  # this question leaves nothing for the next one
    usage: list[int] = []
    recalls = 0

    def on(ev: Event) -> None:
        nonlocal recalls
        if isinstance(ev, Usage):
            usage.append(ev.prompt_tokens)
        elif isinstance(ev, ToolCallStarted) and ev.name == "recall":
            recalls += 1

    session.add_listener(on)
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = await session.run_turn(question)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    await close_memory(rt.memory)
    text = " ".join(outcome.text.split())
    right = any(a in text.lower() for a in answers)
    return Row(question, text, right, usage[0] if usage else 0, sum(usage), recalls, took,
               cpu)


async def build_briefing(provider: object, ws: Path) -> int:
    from app.core.memory.model import MemoryModel
    from app.core.settings.config import Config, MemoryConfig
    from app.runtime.memory import open_memory

    hook = open_memory(Config(memory=MemoryConfig()), ws,
                       model=MemoryModel(lambda: provider, local=True))  # type: ignore[arg-type,return-value]
    assert hook is not None and hook.bulletin is not None
    t0 = time.perf_counter()
    ok = await hook.bulletin.rebuild()
    print(f"briefing: {'built' if ok else 'NOT built: ' + hook.bulletin.last_error} in "
          f"{time.perf_counter() - t0:.0f} s ({len(hook.bulletin.text.split())} words)")
    print("  " + hook.bulletin.text.replace("\n", "\n  "))
    words = len(hook.bulletin.text.split())
    hook.memory.close()
    return words


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conditions", default="off,on,briefing")
    ap.add_argument("--limit", type=int, default=len(CASES), help="ask only the first N")
    ap.add_argument("--max-wall", type=float, default=0.0,
                    help="ask no new question after this many seconds (0: no limit)")
    ap.add_argument("--threads", type=int, default=0,
                    help="llama.cpp threads (0 = all cores, the default config)")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="nb-membench-"))
    os.environ["NANOBOT_HOME"] = str(home)  # a fresh memory database, sessions, briefing
    ws = home / "project"
    ws.mkdir()
    from app.core.providers.registry import local_provider
    from app.core.settings.config import SlotConfig

    print(f"load before: {load()}")
    await seed(ws)
    provider = local_provider(SlotConfig(), threads=args.threads).provider
    t0 = time.perf_counter()
    load_model = getattr(provider, "load", None)
    if load_model is not None:
        await load_model()  # loading is no question's cost
    print(f"model: {provider.model} (in-process, temperature 0), loaded in "
          f"{time.perf_counter() - t0:.0f} s")
    results = [Condition(name) for name in args.conditions.split(",")]
    for cond in results:
        if cond.name == "briefing":
            cond.briefing_words = await build_briefing(provider, ws)
    # Question by question, every condition in turn: a run cut short by --max-wall still
    # compares the conditions on the same questions.
    start = time.perf_counter()
    for _said, _fact, question, answers in CASES[:args.limit]:
        if args.max_wall and time.perf_counter() - start > args.max_wall:
            print(f"--max-wall {args.max_wall:g} s reached: stopping before {question!r}")
            break
        for cond in results:
            row = await ask(provider, ws, cond.name, question, answers)
            cond.rows.append(row)
            print(f"[{cond.name}] {'OK ' if row.right else 'BAD'} {row.first_prompt:5d} tok "
                  f"{row.seconds:5.1f}s ({row.cpu_s:5.1f} CPU s) recall×{row.recall_calls} {question!r} -> "
                  f"{row.answer[:90]!r}", flush=True)
    results = [c for c in results if c.rows]
    print(f"load after: {load()}")
    print()
    base = next((c for c in results if c.name == "off"), None)
    print(f"{'condition':<10} {'right':>7} {'first-request prompt tok (mean)':>32} "
          f"{'added vs off':>13} {'all prompt tok/q':>17} {'recall calls':>13} {'s/q p50':>8} "
          f"{'CPU s/q p50':>12}")
    for c in results:
        n = len(c.rows)
        first = statistics.mean(r.first_prompt for r in c.rows)
        added = first - statistics.mean(r.first_prompt for r in base.rows) if base else 0.0
        print(f"{c.name:<10} {sum(r.right for r in c.rows):>3}/{n:<3} {first:>32.0f} "
              f"{added:>+13.0f} {statistics.mean(r.all_prompt for r in c.rows):>17.0f} "
              f"{sum(r.recall_calls for r in c.rows):>13} "
              f"{statistics.median(r.seconds for r in c.rows):>8.1f} "
              f"{statistics.median(r.cpu_s for r in c.rows):>12.1f}")
    if base:
        for c in results:
            if c is not base:
                right, right0 = sum(r.right for r in c.rows), sum(r.right for r in base.rows)
                tok = statistics.mean(r.first_prompt for r in c.rows)
                tok0 = max(1.0, statistics.mean(r.first_prompt for r in base.rows))
                print(f"{c.name} vs off: {right} vs {right0} right; first request "
                      f"{tok / tok0:.2f}x the prompt tokens")


if __name__ == "__main__":
    asyncio.run(main())
