"""``nanobot run -p PROMPT``: one headless turn, streamed to stdout."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
from typing import TextIO

from app.core.agent import children
from app.core.agent.events import (
    ErrorReported,
    Event,
    MessageAdded,
    Notice,
    ReplyRestarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnFailed,
    to_record,
)
from app.core.models.embedded import EmbeddedModelError
from app.core.providers.registry import ProviderSetupError
from app.core.settings.config import ConfigError
from app.core.swarm.branch import running_branches
from app.core.swarm.events import BranchFinished
from app.runtime.memory import close_memory

# After a turn that started branches, a headless run waits for them and asks once more, so the
# answer it prints has their results in it (the app shows them as they come instead).
FOLLOW_UP = "The branch results are in. Answer my request with them."

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


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
    """Events to the terminal: the answer on stdout, everything else on stderr.

    A reply that restarts (its provider failed mid-reply and it is tried again) replaces what was
    shown of it: on a terminal the shown text is erased; into a pipe or file, text is held back
    until its step is complete, so the output never holds a void attempt.
    """

    def __init__(self, as_json: bool, quiet: bool = False, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.quiet = quiet  # --quiet: the answer and errors only
        self.out = out or sys.stdout
        self.live = self.out.isatty()
        self.wrote_text = False
        self.step = ""  # the current step's text: shown (terminal) or held back (pipe)

    def __call__(self, ev: Event) -> None:
        if self.as_json:
            self.out.write(json.dumps(to_record(ev), ensure_ascii=False) + "\n")
            self.out.flush()
            return
        if isinstance(ev, TextDelta):
            self.step += ev.text
            if self.live:
                self._write(ev.text)
        elif isinstance(ev, ReplyRestarted):
            if self.live:
                self._erase(self.step)
            self.step = ""
        elif isinstance(ev, MessageAdded):
            if ev.message.role == "assistant":
                self._end_step()
        elif isinstance(ev, TurnFailed | TurnCancelled):
            self._end_step()
            if isinstance(ev, TurnFailed):
                print(f"error: {ev.error}", file=sys.stderr)
            elif not self.quiet:
                print("\n[cancelled]", file=sys.stderr)
        elif self.quiet:
            return
        elif isinstance(ev, ToolCallStarted):
            extra = (f" ({'run' if ev.name == 'exec' else 'read'} for your request)"
                     if ev.grounded else "")
            extra += f" [vote {ev.votes}]" if ev.votes else ""
            print(f"→ {ev.label or ev.name}{extra}", file=sys.stderr)
        elif isinstance(ev, ToolCallFinished) and ev.is_error:
            print(f"  ✗ {ev.content.splitlines()[0] if ev.content else 'failed'}",
                  file=sys.stderr)
        elif isinstance(ev, Notice | ErrorReported):
            text = ev.text if isinstance(ev, Notice) else ev.message
            print(f"[{getattr(ev, 'level', 'error')}] {text}", file=sys.stderr)
        elif isinstance(ev, BranchFinished):
            ending = "" if ev.state == "done" else f" ({ev.state}: {ev.stop_reason})"
            print(f"[branch result{ending}] {ev.question}\n{ev.result}", file=sys.stderr)

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.out.flush()
            self.wrote_text = True

    def _end_step(self) -> None:
        if not self.live:
            self._write(self.step)
        self.step = ""

    def _erase(self, text: str) -> None:
        """Move back to where ``text`` began on the terminal and clear from there down."""
        if not text:
            return
        width = max(1, shutil.get_terminal_size().columns)
        lines = text.split("\n")
        rows = sum(max(1, -(-len(line) // width)) for line in lines[:-1])
        rows += len(lines[-1]) // width  # the cursor's row within the last line
        self.out.write("\r" + (f"\x1b[{rows}A" if rows else "") + "\x1b[J")
        self.out.flush()


def run(args: argparse.Namespace) -> int:
    from app.runtime.build import build_runtime
    from app.runtime.sessions import resume_target

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    try:
        resume = resume_target(getattr(args, "resume", None), getattr(args, "continue_", False))
        rt = build_runtime(model=args.run_model or args.model, workspace=args.workspace,
                           persist=not args.no_save, auto_approve=bool(args.yes))
        opened = rt.factory.resume(resume) if resume is not None else rt.factory.new()
    except (LookupError, OSError) as exc:  # no such session, or it is open elsewhere
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (ProviderSetupError, EmbeddedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    session = opened.session
    quiet = bool(getattr(args, "quiet", False))
    damage = opened.damage_note(resume.name) if resume is not None else ""
    for note in () if quiet else [*rt.notices, *opened.notices, *filter(None, [damage])]:
        print(f"[notice] {note}", file=sys.stderr)
    if args.private and rt.memory is not None:
        note = rt.memory.set_private(session, True)
        if not quiet:
            print(f"[notice] {note}", file=sys.stderr)
    printer = _Printer(args.json, quiet)
    session.add_listener(printer)
    swarm = session.swarm
    stopped_by: list[int] = []

    def cancel_branches() -> None:
        if swarm is None:
            return
        for w in running_branches(swarm):
            swarm.cancel(w.id, "cancelled by user")

    def interrupt() -> None:
        session.cancel()
        cancel_branches()

    def stop(sig: int) -> None:
        # SIGTERM and SIGHUP (the terminal closed) do what Ctrl+C does: cancel the turn, which
        # kills its exec trees; MCP and managed servers stop below, on the way out.
        stopped_by.append(sig)
        session.cancel(f"stopped by {signal.Signals(sig).name}")
        cancel_branches()
        children.kill_all(("exec",))

    async def go() -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, interrupt)
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop, sig)
        try:
            outcome = await session.run_turn(prompt)
            branches = running_branches(swarm) if swarm is not None else []
            if outcome.status == "finished" and branches and swarm is not None:
                if not quiet:
                    print(f"\n[notice] waiting for {len(branches)} branch(es)…", file=sys.stderr)
                await swarm.wait([w.id for w in branches])
                if any(w.state != "cancelled" or w.result for w in branches):
                    if printer.wrote_text and not args.json:
                        sys.stdout.write("\n")
                    outcome = await session.run_turn(FOLLOW_UP)
        finally:
            for sig in (signal.SIGINT, *STOP_SIGNALS):
                loop.remove_signal_handler(sig)
            if swarm is not None:
                await swarm.aclose()
            await close_memory(rt.memory)
            if rt.factory.project is not None:  # MCP servers and their process groups
                await rt.factory.project.aclose()
            await session.provider.aclose()
            if rt.stack is not None:  # managed servers, if any slot runs on one
                await rt.stack.manager.shutdown()
            if session.store:
                session.store.close()
        if printer.wrote_text and not args.json:
            sys.stdout.write("\n")
        if stopped_by:
            return 128 + stopped_by[0]
        code = {"finished": 0, "cancelled": 130}.get(outcome.status, 1)
        # The answer stands, but a session that could not be saved is not a success.
        return 1 if code == 0 and session.store_error else code

    return asyncio.run(go())
