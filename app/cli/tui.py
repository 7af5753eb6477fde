"""``nanobot`` with no subcommand: open the full-screen app (``--resume``, ``--continue``,
``--replay FILE``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.models.embedded import EmbeddedModelError
from app.core.providers.registry import ProviderSetupError
from app.core.settings.config import ConfigError

if TYPE_CHECKING:
    from app.tui.app import NanobotApp

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
    try:
        app = build_app(args)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (ProviderSetupError, EmbeddedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the session to resume cannot be read
        print(f"error: could not open the session: {exc}", file=sys.stderr)
        return 2
    app.run()
    return 0


def build_app(args: argparse.Namespace) -> NanobotApp:
    """The app ``nanobot`` opens: a fresh session, or the one ``--resume``/``--continue`` name."""
    from app.runtime.build import build_runtime
    from app.tui.app import NanobotApp

    resume = _resume_path(args)
    rt = build_runtime(model=args.model, workspace=args.workspace)
    return NanobotApp(rt.factory, resume=resume, notices=rt.notices, stack=rt.stack)


def run_replay(path: Path, args: argparse.Namespace) -> int:
    from app.core.providers.replay import ReplayProvider, ReplayScript, ReplayTools
    from app.core.settings.config import load_config
    from app.runtime.factory import SessionFactory

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
    # Recorded tool results stand in for the tools (so no spawn, no compaction); nothing is saved.
    factory = SessionFactory(config, provider, tools=lambda: ReplayTools(script), features=())
    notices = [f"Replaying {path.name}: {len(script.turns)} recorded turn(s); nothing is saved."]
    if script.skipped:
        notices.append(f"{script.skipped} unreadable line(s) in {path.name} were skipped")
    from app.tui.app import NanobotApp

    NanobotApp(factory, notices=notices, replay=provider).run()
    return 0
