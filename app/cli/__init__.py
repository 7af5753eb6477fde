"""Command line: ``nanobot`` opens the TUI; subcommands run headless work."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from app import __version__

Handler = Callable[[argparse.Namespace], int]


def _commands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    from app.cli import config, doctor, ingest, process, run, setup

    return [run.register, config.register, doctor.register, setup.register,
            ingest.register_ingest, ingest.register_search, ingest.register_embed,
            ingest.register_volumes, ingest.register_ask, process.register]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nanobot", description="A local-first AI agent in your terminal.")
    parser.add_argument("--version", action="version", version=f"nanobot {__version__}")
    parser.add_argument("--model", "-m", help="model or provider (local, local:rlm, NAME:MODEL, "
                                              "an embedded model id, or a .gguf path)")
    parser.add_argument("--workspace", "-w", help="directory the file tools may use")
    parser.add_argument("--resume", nargs="?", const="", metavar="ID",
                        help="resume a session (the most recent one without ID)")
    parser.add_argument("--continue", dest="continue_", action="store_true",
                        help="continue the most recent session")
    parser.add_argument("--replay", metavar="FILE", help="drive the UI from a recorded event log")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _commands():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from app.runtime.logs import setup_logging

    setup_logging()
    handler: Handler | None = getattr(args, "handler", None)
    if handler is not None:
        return handler(args)
    from app.cli.tui import run_tui

    return run_tui(args)


if __name__ == "__main__":
    sys.exit(main())
