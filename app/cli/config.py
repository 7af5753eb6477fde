"""``nanobot config init|check|path``."""

from __future__ import annotations

import argparse
import sys

from app.core.providers.base import Provider
from app.core.settings.config import ConfigError, load_config, write_template
from app.core.settings.paths import get_paths


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="write, check or locate the config file")
    p.add_argument("action", choices=["init", "check", "path"])
    p.add_argument("--force", action="store_true", help="init: overwrite an existing file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path = get_paths().config_file
    if args.action == "path":
        print(path)
        return 0
    if args.action == "init":
        try:
            write_template(path, force=args.force)
        except FileExistsError:
            print(f"{path} already exists (use --force to overwrite)", file=sys.stderr)
            return 1
        print(f"wrote {path}")
        return 0
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    where = path if path.exists() else f"{path} (not present: defaults)"
    print(f"ok: {where}")
    print(f"  provider: {cfg.agent.provider}; providers configured: "
          f"{', '.join(cfg.providers) or 'none'}")
    from app.core.providers.registry import ProviderRegistry

    for p in ProviderRegistry(cfg, local_factory=_unused).check():
        print(f"  warning: {p.key}: {p.message}\n    fix: {p.fix}")
    return 0


def _unused(slot: str) -> Provider:
    raise RuntimeError("config check builds no providers")
