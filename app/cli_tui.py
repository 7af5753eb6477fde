"""``nanobot`` with no subcommand: open the full-screen app."""

from __future__ import annotations

import argparse
import sys

from app.core.config import ConfigError
from app.core.models.embedded import EmbeddedModelError
from app.core.providers.registry import ProviderSetupError


def run_tui(args: argparse.Namespace) -> int:
    from app.runtime import build_runtime

    try:
        rt = build_runtime(model=args.model, workspace=args.workspace)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except (ProviderSetupError, EmbeddedModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from app.tui import NanobotApp

    NanobotApp(rt.session, notices=rt.notices, stack=rt.stack).run()
    return 0
