"""Command line: ``nanobot`` opens the TUI; subcommands run headless work.

Exit codes (the same for every command; README "Exit codes"):

  0    success
  1    the work failed (a turn failed, a check found a problem, a process did not finish)
  2    bad input: a wrong flag or argument, an invalid config file, a model that cannot be set up
  3    refused to start: a process whose model cannot reach the target accuracy (no-go)
  4    a process is stopped or busy; it can be resumed
  130  cancelled by the user (Ctrl+C, Esc Esc in a headless run)
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from app import __version__

Handler = Callable[[argparse.Namespace], int]

EXIT_CODES = ("exit codes: 0 success, 1 the work failed, 2 bad input (flags, config, model), "
              "3 refused to start (no-go), 4 process stopped or busy (resumable), "
              "130 cancelled")
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}


def _add_verbosity(parser: argparse.ArgumentParser, *, inherit: bool) -> None:
    """``-v/--verbose`` and ``-q/--quiet``; on subcommands they default to SUPPRESS so the
    top-level value (``nanobot -v run``) survives and ``nanobot run -v`` works too."""
    default = argparse.SUPPRESS if inherit else False
    have = parser._option_string_actions  # a command's own --quiet (ingest: no progress) stays
    group = parser.add_mutually_exclusive_group() if "--quiet" not in have else parser
    group.add_argument("-v", "--verbose", action="store_true", default=default,
                       help="debug logging; headless commands also log to stderr")
    if "--quiet" not in have:
        group.add_argument("-q", "--quiet", action="store_true", default=default,
                           help="warnings and errors only; headless runs print just the answer")


def _commands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    from app.cli import completion, config, doctor, ingest, memory, process, run, serve, setup, traces

    return [run.register, config.register, doctor.register, setup.register,
            ingest.register_ingest, ingest.register_search, ingest.register_embed,
            ingest.register_volumes, ingest.register_ask, process.register, serve.register,
            traces.register, memory.register, completion.register]


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """The full parser; ``commands=False`` leaves the subcommands out (plain ``nanobot`` opens the
    app, and importing every subcommand's module first would delay its first frame)."""
    parser = argparse.ArgumentParser(
        prog="nanobot", description="A local-first AI agent in your terminal.",
        epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"nanobot {__version__}")
    _add_verbosity(parser, inherit=False)
    parser.add_argument("--model", "-m", help="model or provider (local, local:rlm, NAME:MODEL, "
                                              "an embedded model id, or a .gguf path)")
    parser.add_argument("--workspace", "-w", help="directory the file tools may use")
    parser.add_argument("--resume", nargs="?", const="", metavar="ID",
                        help="resume a session (the most recent one without ID)")
    parser.add_argument("--continue", dest="continue_", action="store_true",
                        help="continue the most recent session")
    parser.add_argument("--replay", metavar="FILE", help="drive the UI from a recorded event log")
    parser.add_argument("--private", dest="private_app", action="store_true",
                        help="keep nothing from this session in long-term memory")
    if commands:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        for register in _commands():
            register(sub)
        for child in set(sub.choices.values()):
            _add_verbosity(child, inherit=True)
            child.epilog = child.epilog or EXIT_CODES
    else:
        parser.set_defaults(command=None)
    return parser


def _only_options(argv: Sequence[str]) -> bool:
    """No word that could be a subcommand (or an option's value), and no --help."""
    return not any(a in ("-h", "--help") or not a.startswith("-") for a in argv)


def log_level(args: argparse.Namespace) -> int:
    """``--verbose``/``--quiet``, else the config's ``log_level``, else info."""
    if args.verbose:
        return logging.DEBUG
    if args.quiet:
        return logging.WARNING
    from app.core.settings.config import ConfigError, load_config

    try:
        return LOG_LEVELS[load_config().log_level]
    except (ConfigError, OSError):
        return logging.INFO  # the command itself reports a broken config


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(commands=not _only_options(words))
    args = parser.parse_args(words)
    from app.runtime.logs import setup_logging

    handler: Handler | None = getattr(args, "handler", None)
    # A full-screen app owns the terminal: its log records go to the file only.
    setup_logging(log_level(args), stderr=bool(args.verbose) and handler is not None
                  and args.command != "serve")
    try:
        if handler is not None:
            return handler(args)
        from app.cli.tui import run_tui

        return run_tui(args)
    except KeyboardInterrupt:
        print("\ncancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
