"""``nanobot`` with no subcommand: open the full-screen app (``--resume``, ``--continue``,
``--replay FILE``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.core.models.embedded import EmbeddedModelError
from app.core.providers.registry import ProviderSetupError
from app.core.settings.config import ConfigError

REPLAY_DELAY = 0.03  # seconds per recorded chunk: reads like a live stream


def run_tui(args: argparse.Namespace) -> int:
    if args.replay:
        return run_replay(Path(args.replay), args)
    from app.runtime.build import build_runtime
    from app.runtime.sessions import resume_target

    try:
        resume = resume_target(args.resume, args.continue_)
        rt = build_runtime(model=args.model, workspace=args.workspace, resume_path=resume)
    except (LookupError, OSError) as exc:  # OSError: the session is open elsewhere, unreadable
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (ProviderSetupError, EmbeddedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from app.core.store.session_store import read_session
    from app.tui.app import NanobotApp

    events = read_session(resume).events if resume is not None else None
    app = NanobotApp(rt.session, config=rt.config, notices=rt.notices, resumed_events=events,
                     stack=rt.stack)
    app.run()
    return app.return_code or 0


def run_replay(path: Path, args: argparse.Namespace) -> int:
    from app.core.agent.session import Session, SessionOptions
    from app.core.providers.replay import ReplayProvider, ReplayScript, ReplayTools
    from app.core.settings.config import load_config

    if not path.is_file():
        print(f"error: no such replay file: {path}", file=sys.stderr)
        return 2
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    script = ReplayScript.load(path)
    if not script.turns:
        print(f"error: {path} holds no recorded turns ({script.skipped} unreadable line(s))",
              file=sys.stderr)
        return 2
    provider = ReplayProvider(script, delay=REPLAY_DELAY)
    session = Session(provider, tools=ReplayTools(script), options=SessionOptions())
    notices = [f"Replaying {path.name}: {len(script.turns)} recorded turn(s); nothing is saved."]
    if script.skipped:
        notices.append(f"{script.skipped} unreadable line(s) in {path.name} were skipped")
    from app.tui.app import NanobotApp

    NanobotApp(session, config=config, notices=notices, replay=provider).run()
    return 0
