"""Change one key of the user's config file in place, keeping every other line and comment.

Used for settings the app persists on the user's behalf (``/theme``). The new text is parsed and
validated before it replaces the file (atomically), so a bad edit never lands and a file that is
already broken is refused rather than rewritten.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.core.settings.config import Config, ConfigError, parse_config
from app.core.settings.paths import atomic_write_text, get_paths

HEADER = "# Nanobot configuration; `nanobot config init --force` writes the documented template.\n"


def _toml_value(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def set_value(section: str, key: str, value: str | bool | int | float,
              path: Path | None = None) -> Config:
    """Set ``[section] key = value`` and return the config as loaded from the new text."""
    path = path or get_paths().config_file
    old = path.read_text(encoding="utf-8") if path.exists() else HEADER
    parse_config(old, path)  # refuse to touch a file that does not load today
    new = _edited(old, section, key, _toml_value(value))
    cfg = parse_config(new, path)
    atomic_write_text(path, new)
    return cfg


_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"]+)\s*\]\s*(#.*)?$")


def _edited(text: str, section: str, key: str, literal: str) -> str:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key_re = re.compile(rf"^(\s*){re.escape(key)}\s*=")
    start = None
    for i, line in enumerate(lines):
        m = _SECTION.match(line)
        if m and m.group(1) == section:
            start = i
            break
    if start is None:
        sep = "" if not lines or lines[-1].strip() == "" else "\n"
        return "".join(lines) + f"{sep}[{section}]\n{key} = {literal}\n"
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if lines[j].lstrip().startswith("["):
            end = j
            break
    for j in range(start + 1, end):
        m = key_re.match(lines[j])
        if m:
            lines[j] = f"{m.group(1)}{key} = {literal}\n"
            return "".join(lines)
    lines.insert(start + 1, f"{key} = {literal}\n")
    return "".join(lines)


__all__ = ["ConfigError", "set_value"]
