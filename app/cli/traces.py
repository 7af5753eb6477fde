"""``nanobot traces``, ``nanobot traces export``, ``nanobot traces verify``, ``nanobot stats`` and
``nanobot skills``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.core.learning.export import export_chat
from app.core.learning.learner import Learner
from app.core.learning.report import stats_text, traces_text
from app.core.settings.config import ConfigError, load_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("traces", help="what each turn did (the learning trace log)",
                       description="List recorded turns, newest first; export them as training "
                                   "data; check the log's hash chain.")
    p.add_argument("--last", type=int, default=20, metavar="N",
                   help="show the last N turns (default 20; 0 = all)")
    p.add_argument("--category", "-c", default="", help="only this kind of task")
    p.add_argument("--json", action="store_true", help="one JSON record per line")
    p.set_defaults(handler=list_traces)
    verbs = p.add_subparsers(dest="traces_command", metavar="ACTION")
    e = verbs.add_parser("export", help="successful turns as chat-format JSONL for a LoRA")
    e.add_argument("--format", choices=("chat",), default="chat",
                   help="chat: OpenAI chat fine-tuning records (the only format)")
    e.add_argument("--out", "-o", type=Path, default=Path("nanobot-traces.jsonl"),
                   help="output file; failures go to NAME.negatives.jsonl beside it")
    e.add_argument("--limit", type=int, default=0, help="at most N turns (0 = all)")
    e.add_argument("--all", action="store_true",
                   help="include turns exported before (default: only new ones)")
    e.set_defaults(handler=export)
    v = verbs.add_parser("verify", help="check the trace log's hash chain")
    v.set_defaults(handler=verify)
    s = sub.add_parser("stats", help="per task category: steps, time, tokens, success, budget")
    s.add_argument("--json", action="store_true", help="print the table as JSON")
    s.set_defaults(handler=stats)
    k = sub.add_parser("skills", help="skills and learned recipes: list, show, enable, disable, "
                                      "delete",
                       description="Skills in WORKSPACE/skills and the user's skills folder, and "
                                   "the recipes learned from repeated successes.")
    k.add_argument("action", nargs="?", default="list",
                   choices=("list", "show", "enable", "disable", "delete"))
    k.add_argument("name", nargs="?", default="", help="the skill (all but list)")
    k.set_defaults(handler=skills)


def _learner() -> Learner:
    from app.runtime.learning import make_learner

    return make_learner(load_config().learning)


def list_traces(args: argparse.Namespace) -> int:
    try:
        learner = _learner()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    views = learner.traces.turns(last=max(0, args.last), category=args.category)
    if args.json:
        for v in views:
            print(json.dumps(v.as_dict(), ensure_ascii=False, default=str))
        return 0
    print(traces_text(views))
    print(f"\n{len(views)} shown; log in {learner.traces.directory}")
    return 0


def export(args: argparse.Namespace) -> int:
    try:
        learner = _learner()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        result = export_chat(learner.traces, learner.stats, args.out, limit=max(0, args.limit),
                             include_exported=args.all)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {result.positives} successful turn(s) to {result.path} and "
          f"{result.negatives} failed one(s) to {result.negatives_path}"
          + (f"; {result.skipped_unjudged} unjudged turn(s) left out"
             if result.skipped_unjudged else ""))
    return 0


def verify(args: argparse.Namespace) -> int:
    try:
        learner = _learner()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    report = learner.traces.verify()
    for p in report.problems[:50]:
        print(f"{p.file}:{p.line}: {p.what}")
    print(f"{report.records} record(s) in {report.files} file(s): "
          + ("the chain is whole" if report.ok else f"{len(report.problems)} problem(s)"))
    return 0 if report.ok else 1


def stats(args: argparse.Namespace) -> int:
    try:
        learner = _learner()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    rows = learner.stats.table()
    if args.json:
        print(json.dumps([{**vars(r), "success_rate": r.success_rate} for r in rows], indent=1))
        return 0
    print(stats_text(rows))
    return 0


def skills(args: argparse.Namespace) -> int:
    from app.core.settings.paths import get_paths
    from app.core.skills.library import SkillLibrary
    from app.runtime import skill_admin

    try:
        learner = _learner()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    workspace = Path(args.workspace or ".").expanduser().resolve()
    library = SkillLibrary.for_workspace(workspace, get_paths().config_dir)
    if args.action == "list":
        print(skill_admin.skills_report(
            library, usage="nanobot skills [show|enable|disable|delete NAME]"))
        return 0
    if not args.name:
        print(f"error: nanobot skills {args.action} needs a NAME", file=sys.stderr)
        return 2
    skill = library.skills.get(args.name)
    if skill is None or skill.path is None:
        print(f"error: no skill named {args.name!r}; nanobot skills lists them", file=sys.stderr)
        return 1
    if args.action == "show":
        print(skill_admin.show(skill))
    elif args.action in ("enable", "disable"):
        print(skill_admin.set_enabled(skill, args.action == "enable", learner))
    else:
        deleted, text = skill_admin.delete(skill, learner)
        print(text, file=sys.stdout if deleted else sys.stderr)
        return 0 if deleted else 1
    return 0
