"""``nanobot`` with no subcommand: open the full-screen app (``--resume``, ``--continue``,
``--replay FILE``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.tui.boot import Booted

REPLAY_DELAY = 0.03  # seconds per recorded chunk: reads like a live stream


def boot(args: argparse.Namespace) -> Booted:
    """Build the session factory (in the app's boot thread, after its first frame)."""
    from app.core.models.embedded import EmbeddedModelError
    from app.core.providers.registry import ProviderSetupError
    from app.core.settings.config import ConfigError
    from app.runtime.build import build_runtime
    from app.runtime.sessions import resume_target
    from app.tui.boot import Booted, BootError

    try:
        resume = resume_target(args.resume, args.continue_)
        rt = build_runtime(model=args.model, workspace=args.workspace)
    except LookupError as exc:  # no such session, or an ambiguous id
        raise BootError(f"error: {exc}") from exc
    except ConfigError as exc:
        raise BootError(f"config error: {exc}") from exc
    except (ProviderSetupError, EmbeddedModelError) as exc:
        raise BootError(f"error: {exc}") from exc
    return Booted(rt.factory, stack=rt.stack, notices=rt.notices, resume=resume,
                  private=bool(getattr(args, "private_app", False)))


def run_tui(args: argparse.Namespace) -> int:
    """The app draws first; the core, the config and the session load behind its first frame
    (app/tui/boot.py). A config or model error ends the app with the message, exit status 2."""
    if args.replay:
        return run_replay(Path(args.replay), args)
    from app.core.settings.config import ConfigError, load_config
    from app.tui.app import NanobotApp

    try:
        config = load_config()  # the theme and keys are right from the first frame
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    app = NanobotApp(config=config, boot=lambda: boot(args))
    app.run()
    return app.return_code or 0


def run_replay(path: Path, args: argparse.Namespace) -> int:
    from app.core.providers.replay import ReplayProvider, ReplayScript, ReplayTools
    from app.core.settings.config import ConfigError, load_config
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
