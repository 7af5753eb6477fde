"""Narration compliance: do models say what they are doing before they call tools?

Scores session logs: a *tool batch* is one model step that calls tools; it is *narrated* when that
step also wrote text. Reported per log: batches, narrated share, the longest run of silent batches,
and the narrated share in the first and second half of the run (degradation).

With no log arguments it runs the seed plan's four task sizes on the default local model (through
the real Session, in-process llama.cpp) in a scratch project, keeps the logs and scores them:

1. summarise one file (about 1 call)      3. refactor a function into a module (6+ calls)
2. find the TODOs (3-5 files)             4. open-ended review of the codebase (10+ calls)

Usage: python bench/narration.py [LOG.jsonl ...] [--repeat 1] [--keep DIR] [--max-tokens 160]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.agent.events import MessageAdded, TurnStarted
from app.core.agent.session import Session, SessionOptions
from app.core.store.session_store import SessionStore, read_session

NARRATION_RULE = (
    "Before each tool call, first write one short sentence saying what you are about to do and "
    "why, then make the call. Never make several calls in a row without a sentence.")

TASKS = (
    ("summarise one file", "Summarise what app/parser.py does.", 4),
    ("find TODOs", "Find every TODO comment in this project and list them with their files.", 8),
    ("refactor into a module",
     "Plan how to move the function `slugify` from app/parser.py into its own module "
     "app/text.py and update every place that uses it. Read what you need first.", 10),
    ("codebase review", "Review this whole codebase: read the files and report the three most "
                        "important problems you find.", 14),
)

PROJECT = {
    "README.md": "# notes-app\nA tiny notes app.\n\n## Layout\n- app/: code\n- tests/: tests\n",
    "app/__init__.py": "",
    "app/parser.py": (
        "import re\n\n\ndef slugify(title):\n    # TODO: handle unicode titles\n"
        "    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n\n\n"
        "def parse_note(text):\n    title, _, body = text.partition('\\n')\n"
        "    return {'title': title, 'slug': slugify(title), 'body': body}\n"),
    "app/store.py": (
        "import json\nfrom app.parser import slugify\n\n\nclass Store:\n"
        "    def __init__(self, path):\n        self.path = path\n\n"
        "    def save(self, note):\n        # TODO: write atomically\n"
        "        with open(self.path, 'a') as fh:\n            fh.write(json.dumps(note))\n\n"
        "    def key(self, title):\n        return slugify(title)\n"),
    "app/cli.py": (
        "import sys\nfrom app.parser import parse_note\nfrom app.store import Store\n\n\n"
        "def main():\n    # TODO: argument parsing\n    note = parse_note(sys.stdin.read())\n"
        "    Store('notes.jsonl').save(note)\n"),
    "tests/test_parser.py": (
        "from app.parser import slugify\n\n\ndef test_slugify():\n"
        "    # TODO: more cases\n    assert slugify('Hello World') == 'hello-world'\n"),
}


@dataclass
class Score:
    name: str
    batches: int
    narrated: int
    longest_silent: int
    first_half: float
    second_half: float

    @property
    def compliance(self) -> float:
        return self.narrated / self.batches if self.batches else float("nan")


def score_log(path: Path, name: str = "") -> Score:
    """Score one session log (its own turns; workers' records are left out)."""
    flags: list[bool] = []
    longest = run = 0
    for ev in read_session(path).events:
        if isinstance(ev, TurnStarted):
            run = 0  # a silent chain does not run across turns
        elif isinstance(ev, MessageAdded) and ev.message.role == "assistant" \
                and ev.message.tool_calls:
            narrated = bool(ev.message.content.strip())
            flags.append(narrated)
            run = 0 if narrated else run + 1
            longest = max(longest, run)
    half = len(flags) // 2

    def share(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else float("nan")

    return Score(name or path.name, len(flags), sum(flags), longest,
                 share(flags[:half] if half else flags), share(flags[half:]))


async def run_tasks(repeat: int, keep: Path, max_tokens: int) -> list[Score]:
    from app.core.models.embedded import ensure_embedded
    from app.core.providers.llama_inprocess import LlamaInProcessProvider
    from app.runtime.build import default_registry

    provider = LlamaInProcessProvider(ensure_embedded(), n_ctx=8192, temperature=0.0, seed=7,
                                      label="qwen2.5-coder-0.5b (default)", tool_nudge=True)
    scores = []
    with tempfile.TemporaryDirectory() as d:
        project = Path(d) / "notes-app"
        for rel, text in PROJECT.items():
            (project / rel).parent.mkdir(parents=True, exist_ok=True)
            (project / rel).write_text(text)
        for name, prompt, iterations in TASKS:
            for i in range(repeat):
                store = SessionStore.create(keep, f"narration-{name.replace(' ', '-')}-{i + 1}")
                session = Session(provider, tools=default_registry(), store=store,
                                  options=SessionOptions(workspace=project,
                                                         max_iterations=iterations,
                                                         max_tokens=max_tokens,
                                                         system_prompt=NARRATION_RULE))
                outcome = await session.run_turn(prompt)
                store.close()
                scores.append(score_log(store.path, f"{name} #{i + 1}"))
                print(f"  ran {name} #{i + 1}: {outcome.status}, {outcome.iterations} steps "
                      f"-> {store.path}", flush=True)
    await provider.aclose()
    return scores


def pct(x: float, width: int) -> str:
    return f"{'-':>{width}}" if x != x else f"{x:{width}.0%}"  # x != x: NaN, no batches


def table(scores: list[Score]) -> None:
    print(f"\n{'log / task':32}{'batches':>8}{'narrated':>9}{'share':>7}{'silent run':>11}"
          f"{'1st half':>9}{'2nd half':>9}")
    for s in scores:
        print(f"{s.name[:31]:32}{s.batches:8}{s.narrated:9}{pct(s.compliance, 7)}"
              f"{s.longest_silent:11}{pct(s.first_half, 9)}{pct(s.second_half, 9)}")
    total = sum(s.batches for s in scores)
    if total:
        print(f"{'all':32}{total:8}{sum(s.narrated for s in scores):9}"
              f"{sum(s.narrated for s in scores) / total:7.0%}"
              f"{max(s.longest_silent for s in scores):11}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logs", nargs="*", type=Path, help="session logs to score")
    ap.add_argument("--repeat", type=int, default=1, help="runs per task (the plan says 3)")
    ap.add_argument("--keep", type=Path, default=None, help="where to keep the run's logs")
    ap.add_argument("--max-tokens", type=int, default=160)
    args = ap.parse_args()
    if args.logs:
        table([score_log(p) for p in args.logs])
        return
    keep = args.keep or Path(tempfile.mkdtemp(prefix="narration-logs-"))
    print(f"default local model, {len(TASKS)} tasks x {args.repeat}; logs kept in {keep}")
    table(asyncio.run(run_tasks(args.repeat, keep, args.max_tokens)))


if __name__ == "__main__":
    main()
