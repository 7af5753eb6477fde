"""Keep secrets out of logs, transcripts and the environment of commands the agent runs.

A variable is secret when config names it (an API-key variable), when its name looks secret
(``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``/``*PASSWD*``/``*PASSPHRASE*``,
``*CREDENTIAL*``, ``*_PAT``/``PAT_*``, ``*_PWD``), or when its value is a URL carrying a password
(``DATABASE_URL=postgres://u:p@h/db``). Its value is replaced by ``[redacted:NAME]`` wherever it
appears, also reversed, hex-encoded or base64-encoded; values shorter than 8 characters only where
they stand as a whole word (a 4-character password must not blank out every word containing it),
and values under 4 characters are not redacted at all.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from typing import Any

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|"
                          r"(?:^|_)PAT(?:_|$)|_PWD$", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s:]*:([^/@\s]+)@", re.IGNORECASE)
_MIN_ANYWHERE = 8
_MIN_WORD = 4
_extra_names: set[str] = set()


def register_secret_env(name: str) -> None:
    if name:
        _extra_names.add(name)


def is_secret(name: str, value: str) -> bool:
    """Whether the variable ``name=value`` holds a secret."""
    return (name in _extra_names or bool(_SECRET_NAME.search(name))
            or bool(_URL_PASSWORD.match(value.strip())))


def secret_values() -> dict[str, str]:
    """``{name: value}`` of every secret in the environment (a URL's password also on its own,
    as ``NAME.password``)."""
    out: dict[str, str] = {}
    for name, value in os.environ.items():
        if len(value) >= _MIN_WORD and is_secret(name, value):
            out[name] = value
            m = _URL_PASSWORD.match(value.strip())
            if m:
                password = m.group(1)
                if len(password) >= _MIN_WORD:
                    out[f"{name}.password"] = password
    return out


def _forms(value: str) -> list[str]:
    """The value and the encodings a command might print it in."""
    forms = [value]
    if len(value) >= _MIN_ANYWHERE:
        raw = value.encode("utf-8")
        forms.append(value[::-1])
        forms.extend((raw.hex(), raw.hex().upper()))
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            stable = len(raw) // 3 * 4  # the part that does not depend on what follows
            if stable >= _MIN_ANYWHERE:
                forms.append(encoded[:stable].decode("ascii"))
    return forms


def redact(text: str) -> str:
    # Longest first, so a URL is replaced whole before its password alone.
    for name, value in sorted(secret_values().items(), key=lambda kv: -len(kv[1])):
        mark = f"[redacted:{name}]"
        if len(value) < _MIN_ANYWHERE:
            if value in text:
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", mark, text)
            continue
        for form in _forms(value):
            if form in text:
                text = text.replace(form, mark)
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


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record: message, arguments, traceback and stack."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact_value(value: Any) -> Any:
    """``value`` with every string inside it (dict values, list items) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value
