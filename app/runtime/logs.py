"""Logging goes to a file in the state directory; to the terminal only when a headless command
runs with ``--verbose`` (never under the full-screen app).

When the file cannot be opened (a read-only home) or a write to it fails (a full disk), logging
says so once on stderr and sends warnings there from then on: never a traceback per record, and
never a command that dies because its log cannot be written.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys

from app.core.policy.redact import RedactingFilter, RedactingFormatter
from app.core.settings.paths import get_paths

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _stderr_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(RedactingFormatter("nanobot: %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    return handler


def _fall_back(reason: str) -> None:
    root = logging.getLogger()
    if any(type(h) is logging.StreamHandler for h in root.handlers):  # --verbose: already there
        sys.stderr.write(f"nanobot: {reason}\n")
        return
    sys.stderr.write(f"nanobot: {reason}; warnings go to stderr from now on\n")
    root.addHandler(_stderr_handler())


class FileHandler(logging.handlers.RotatingFileHandler):
    """The log file; the first record it cannot write switches logging over to stderr."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        exc = sys.exc_info()[1]
        reason = getattr(exc, "strerror", None) or exc or "unknown error"
        logging.getLogger().removeHandler(self)
        with contextlib.suppress(Exception):
            self.close()
        _fall_back(f"cannot write the log file {self.baseFilename} ({reason})")


def setup_logging(level: int = logging.INFO, *, stderr: bool = False) -> None:
    """The log file at ``level``; with ``stderr`` (``--verbose`` on a headless command) the records
    are shown on stderr as well. Secrets are redacted on both."""
    paths = get_paths()
    for d in (paths.config_dir, paths.data_dir, paths.state_dir, paths.cache_dir):
        with contextlib.suppress(OSError):  # each command reports its own directory's problem
            d.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(level)
    if stderr:
        echo = logging.StreamHandler()
        echo.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        echo.addFilter(RedactingFilter())
        root.addHandler(echo)
    try:
        handler = FileHandler(paths.log_file, maxBytes=2_000_000, backupCount=3,
                              encoding="utf-8")
    except OSError as exc:
        if not stderr:
            _fall_back(f"cannot open the log file {paths.log_file} ({exc.strerror or exc})")
        return
    # The whole formatted record (arguments, tracebacks) is redacted, not only the message.
    handler.setFormatter(RedactingFormatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
