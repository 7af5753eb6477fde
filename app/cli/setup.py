"""``nanobot setup``: the first-run wizard."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("setup", help="first-run wizard: hardware, models, downloads, config")
    p.add_argument("--models-dir", help="where to look for and download GGUF files "
                                        "(default ~/models)")
    p.add_argument("--mirror", default="",
                   help="a Hugging Face-style mirror to download from instead "
                        "(https://host serving {repo}/resolve/main/{file})")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from app.tui.setup_app import SetupApp

    result = SetupApp(models_dir=Path(args.models_dir) if args.models_dir else None,
                      mirror=args.mirror).run()
    return 0 if result else 1
