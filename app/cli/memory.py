"""``nanobot memory``: long-term memory from the shell (list, add, edit, delete, pin, search, the
briefing, private sessions). The same database as the app; facts of the user and of the
workspace (``-w``, default: the current directory)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from app.core.memory.db import MemoryDbError
from app.core.memory.store import MODES, MemoryInputError
from app.core.settings.config import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("memory", help="long-term memory: list, add, edit, delete, search facts; "
                                      "the memory briefing")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="facts of the user and this workspace, newest first")
    ls.add_argument("--all", action="store_true", help="facts of every project")
    add = verbs.add_parser("add", help="keep a fact")
    add.add_argument("text")
    add.add_argument("--user", action="store_true", help="about the user, for every project")
    edit = verbs.add_parser("edit", help="change a fact's text")
    edit.add_argument("id", type=int)
    edit.add_argument("text")
    for name, what in (("delete", "delete a fact"), ("pin", "keep a fact from decaying"),
                       ("unpin", "let a fact decay again")):
        verbs.add_parser(name, help=what).add_argument("id", type=int)
    search = verbs.add_parser("search", help="what recall would find")
    search.add_argument("query")
    search.add_argument("--mode", choices=MODES, default="auto")
    brief = verbs.add_parser("briefing", help="show the memory briefing (--rebuild: build it "
                                              "now with the memory model)")
    brief.add_argument("--rebuild", action="store_true")
    private = verbs.add_parser("private", help="keep nothing from a session (--off: undo)")
    private.add_argument("session")
    private.add_argument("--off", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from app.core.settings.config import load_config
    from app.runtime.build import workspace_for
    from app.runtime.memory import memory_model, open_memory

    try:
        config = load_config()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    ws = workspace_for(config, args.workspace)
    model = None
    if args.verb == "briefing" and args.rebuild:
        from app.core.providers.registry import build_provider

        model = memory_model(config, lambda: build_provider(config).provider)
    hook = open_memory(config, ws, model=model)
    if hook is None:
        print("long-term memory is off ([memory] enabled = false) or its database could not "
              "be opened (see the log)", file=sys.stderr)
        return 1
    try:
        return _verb(args, hook, ws)
    except (MemoryInputError, MemoryDbError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        hook.memory.close()


def _verb(args: argparse.Namespace, hook: object, ws: Path) -> int:
    from app.core.memory.facts import scope_label
    from app.core.memory.hook import MemoryHook

    assert isinstance(hook, MemoryHook)
    memory = hook.memory
    verb = args.verb
    if verb == "list":
        facts = memory.facts.all(None if args.all else memory.scopes(ws))
        for f in facts:
            where = scope_label(f.scope) if not args.all else f.scope
            pin = " pinned" if f.pinned else ""
            print(f"#{f.id}\t{where}{pin}\t{f.uses} use(s)\t{f.text}")
        if not facts:
            print("nothing remembered yet", file=sys.stderr)
        return 0
    if verb == "add":
        done = memory.remember(args.text, workspace=ws, user=args.user)
        print(f"{'updated' if done.merged else 'remembered'} #{done.fact.id}: {done.fact.text}")
        return 0
    if verb == "edit":
        fact = memory.facts.edit(args.id, args.text)
        print(f"edited #{fact.id}: {fact.text}")
        return 0
    if verb == "delete":
        fact = memory.facts.delete(args.id)
        print(f"deleted #{fact.id}: {fact.text}")
        return 0
    if verb in ("pin", "unpin"):
        fact = memory.facts.set_pinned(args.id, verb == "pin")
        print(f"{verb}ned #{fact.id}: {fact.text}")
        return 0
    if verb == "search":
        mode = args.mode if args.mode != "semantic" or memory.semantic else "keyword"
        print(memory.render(memory.recall(args.query, workspace=ws, mode=mode)))
        return 0
    if verb == "private":
        print(memory.set_private(args.session, not args.off))
        return 0
    bulletin = hook.bulletin
    if bulletin is None:
        print("the memory briefing is off ([memory] bulletin = false)", file=sys.stderr)
        return 1
    if args.rebuild and not asyncio.run(bulletin.rebuild()):
        print(f"not rebuilt: {bulletin.last_error}", file=sys.stderr)
        return 1
    print(bulletin.status(), file=sys.stderr)
    if bulletin.text:
        print(bulletin.text)
    return 0
