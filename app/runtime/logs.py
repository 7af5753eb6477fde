"""Logging goes to a file in the state directory; to the terminal only when a headless command
runs with ``--verbose`` (never under the full-screen app)."""

from __future__ import annotations

import logging
import logging.handlers

from app.core.policy.redact import RedactingFilter, RedactingFormatter
from app.core.settings.paths import get_paths


def setup_logging(level: int = logging.INFO, *, stderr: bool = False) -> None:
    """The log file at ``level``; with ``stderr`` (``--verbose`` on a headless command) the records
    are shown on stderr as well. Secrets are redacted on both."""
    paths = get_paths().ensure()
    handler = logging.handlers.RotatingFileHandler(paths.log_file, maxBytes=2_000_000,
                                                   backupCount=3, encoding="utf-8")
    # The whole formatted record (arguments, tracebacks) is redacted, not only the message.
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    if stderr:
        echo = logging.StreamHandler()
        echo.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        echo.addFilter(RedactingFilter())
        root.addHandler(echo)
    root.setLevel(level)
