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


def _resume_path(args: argparse.Namespace) -> Path | None:
    from app.runtime.sessions import find_session, sessions_dir

    key: str | None = args.resume
    if args.continue_:
        key = ""
    if key is None:
        return None
    info = find_session(key)
    if info is None:
        what = f"no saved session matches {key!r}" if key else "no saved sessions yet"
        raise LookupError(f"{what} (in {sessions_dir()})")
    return info.path


def run_tui(args: argparse.Namespace) -> int:
    if args.replay:
        return run_replay(Path(args.replay), args)
    from app.runtime.build import build_runtime

    try:
        resume = _resume_path(args)
        rt = build_runtime(model=args.model, workspace=args.workspace, resume_path=resume)
    except LookupError as exc:
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
    NanobotApp(rt.session, config=rt.config, notices=rt.notices, resumed_events=events,
               stack=rt.stack).run()
    return 0


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
