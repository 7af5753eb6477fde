"""``nanobot config init|check|path``."""

from __future__ import annotations

import argparse
import sys

from app.core.providers.base import Provider
from app.core.settings.config import SLOTS, Config, ConfigError, load_config, write_template
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
        except OSError as exc:  # its directory is a file, or read-only
            print(f"error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {path}")
        return 0
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    bad_models = model_path_problems(cfg)
    for key, problem in bad_models:
        print(f"config error: {path}: key '{key}': {problem}", file=sys.stderr)
    if bad_models:
        return 2
    where = path if path.exists() else f"{path} (not present: defaults)"
    print(f"ok: {where}")
    print(f"  provider: {cfg.agent.provider}; providers configured: "
          f"{', '.join(cfg.providers) or 'none'}")
    from app.core.providers.registry import ProviderRegistry

    for p in ProviderRegistry(cfg, local_factory=_unused).check():
        print(f"  warning: {p.key}: {p.message}\n    fix: {p.fix}")
    return 0


def model_path_problems(cfg: Config) -> list[tuple[str, str]]:
    """(key, problem) for each slot whose model path is not a complete GGUF file."""
    from app.core.models.gguf import ModelFileError, check_gguf

    out: list[tuple[str, str]] = []
    for slot in SLOTS:
        raw = getattr(cfg.local, slot).path
        if raw:
            try:
                check_gguf(raw)
            except ModelFileError as exc:
                out.append((f"local.{slot}.path", str(exc)))
    return out


def _unused(slot: str) -> Provider:
    raise RuntimeError("config check builds no providers")
