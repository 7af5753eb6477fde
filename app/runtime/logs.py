"""Logging goes to a file in the state directory, never to the terminal."""

from __future__ import annotations

import logging
import logging.handlers

from app.core.policy.redact import RedactingFilter, RedactingFormatter
from app.core.settings.paths import get_paths


def setup_logging(level: int = logging.INFO) -> None:
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
    root.setLevel(level)
