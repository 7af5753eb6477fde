"""``nanobot run -p PROMPT``: one headless turn, streamed to stdout."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from app.core.agent.events import (
    ErrorReported,
    Event,
    Notice,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    to_record,
)
from app.core.mcp.manager import close_mcp
from app.core.models.embedded import EmbeddedModelError
from app.core.providers.registry import ProviderSetupError
from app.core.settings.config import ConfigError
from app.core.swarm.branch import running_branches
from app.core.swarm.events import BranchFinished
from app.core.swarm.swarm import swarm_of
from app.runtime.memory import close_memory

# After a turn that started branches, a headless run waits for them and asks once more, so the
# answer it prints has their results in it (the app shows them as they come instead).
FOLLOW_UP = "The branch results are in. Answer my request with them."


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run one turn headless and stream the answer to stdout")
    p.add_argument("-p", "--prompt", required=True, help="the prompt ('-' reads stdin)")
    p.add_argument("--json", action="store_true", help="print one JSON event per line")
    p.add_argument("--model", "-m", dest="run_model", help="model or provider for this run")
    p.add_argument("--yes", action="store_true",
                   help="approve tool calls that would otherwise ask (headless denies them)")
    p.add_argument("--no-save", action="store_true", help="do not write a session file")
    p.add_argument("--private", action="store_true",
                   help="keep nothing from this run in long-term memory")
    p.set_defaults(handler=run)


class _Printer:
    def __init__(self, as_json: bool, quiet: bool = False) -> None:
        self.as_json = as_json
        self.quiet = quiet  # --quiet: the answer and errors only
        self.wrote_text = False

    def __call__(self, ev: Event) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(to_record(ev), ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return
        if isinstance(ev, TextDelta):
            sys.stdout.write(ev.text)
            sys.stdout.flush()
            self.wrote_text = True
        elif self.quiet and not isinstance(ev, TurnFailed):
            return
        elif isinstance(ev, ToolCallStarted):
            print(f"→ {ev.label or ev.name}", file=sys.stderr)
        elif isinstance(ev, ToolCallFinished) and ev.is_error:
            print(f"  ✗ {ev.content.splitlines()[0] if ev.content else 'failed'}",
                  file=sys.stderr)
        elif isinstance(ev, Notice | ErrorReported):
            text = ev.text if isinstance(ev, Notice) else ev.message
            print(f"[{getattr(ev, 'level', 'error')}] {text}", file=sys.stderr)
        elif isinstance(ev, TurnFailed):
            print(f"error: {ev.error}", file=sys.stderr)
        elif isinstance(ev, TurnCancelled):
            print("\n[cancelled]", file=sys.stderr)
        elif isinstance(ev, BranchFinished):
            ending = "" if ev.state == "done" else f" ({ev.state}: {ev.stop_reason})"
            print(f"[branch result{ending}] {ev.question}\n{ev.result}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from app.runtime.build import build_runtime

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    try:
        rt = build_runtime(model=args.run_model or args.model, workspace=args.workspace,
                           persist=not args.no_save)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (ProviderSetupError, EmbeddedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet = bool(getattr(args, "quiet", False))
    for note in () if quiet else rt.notices:
        print(f"[notice] {note}", file=sys.stderr)
    rt.session.auto_approve = bool(args.yes)
    if args.private and rt.memory is not None:
        note = rt.memory.set_private(rt.session, True)
        if not quiet:
            print(f"[notice] {note}", file=sys.stderr)
    printer = _Printer(args.json, quiet)
    rt.session.add_listener(printer)
    swarm = swarm_of(rt.session)

    def stop() -> None:
        rt.session.cancel()
        for w in running_branches(swarm) if swarm is not None else ():
            swarm.cancel(w.id, "cancelled by user")  # type: ignore[union-attr]

    async def go() -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop)
        try:
            outcome = await rt.session.run_turn(prompt)
            branches = running_branches(swarm) if swarm is not None else []
            if outcome.status == "finished" and branches and swarm is not None:
                if not quiet:
                    print(f"\n[notice] waiting for {len(branches)} branch(es)…", file=sys.stderr)
                await swarm.wait([w.id for w in branches])
                if any(w.state != "cancelled" or w.result for w in branches):
                    if printer.wrote_text and not args.json:
                        sys.stdout.write("\n")
                    outcome = await rt.session.run_turn(FOLLOW_UP)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            if swarm is not None:
                await swarm.aclose()
            await close_memory(rt.session)
            await close_mcp(rt.session)  # MCP servers and their process groups
            await rt.session.provider.aclose()
            if rt.stack is not None:  # managed servers, if any slot runs on one
                await rt.stack.manager.shutdown()
            if rt.session.store:
                rt.session.store.close()
        if printer.wrote_text and not args.json:
            sys.stdout.write("\n")
        return {"finished": 0, "cancelled": 130}.get(outcome.status, 1)

    return asyncio.run(go())
