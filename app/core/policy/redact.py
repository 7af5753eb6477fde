"""Keep secrets out of logs and transcripts.

Values of environment variables whose names look secret (``*_KEY``, ``*_TOKEN``, ``*SECRET*``,
``*PASSWORD*``) or that config names as an API-key variable are replaced by ``[redacted:NAME]``.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
_extra_names: set[str] = set()


def register_secret_env(name: str) -> None:
    if name:
        _extra_names.add(name)


def secret_values() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in os.environ.items():
        if (name in _extra_names or _SECRET_NAME.search(name)) and len(value) >= 8:
            out[name] = value
    return out


def redact(text: str) -> str:
    for name, value in secret_values().items():
        if value in text:
            text = text.replace(value, f"[redacted:{name}]")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, ()
        return True


def redact_value(value: Any) -> Any:
    """``value`` with every string inside it (dict values, list items) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value
