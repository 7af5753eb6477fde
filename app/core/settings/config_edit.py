"""Change one key of the user's config file in place, keeping every other line and comment.

Used for settings the app persists on the user's behalf (``/theme``). The file is edited as a TOML
document (tomlkit), never as lines: a ``[ui]`` line inside a multi-line string is text, and dotted
keys (``ui.theme = …``), inline tables (``ui = { theme = … }``) and quoted names (``["ui"]``) are
the same table to TOML, so they are to this editor. The new text is parsed and validated before it
replaces the file (atomically), so a bad edit never lands and a file that is already broken is
refused rather than rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from app.core.settings.config import Config, ConfigError, parse_config
from app.core.settings.paths import atomic_write_text, get_paths

HEADER = "# Nanobot configuration; `nanobot config init --force` writes the documented template.\n"

Value = str | bool | int | float


def set_value(section: str, key: str, value: Value, path: Path | None = None) -> Config:
    """Set ``[section] key = value`` (``section`` may be dotted: ``local.main``) and return the
    config as loaded from the new text."""
    path = path or get_paths().config_file
    old = path.read_text(encoding="utf-8") if path.exists() else HEADER
    parse_config(old, path)  # refuse to touch a file that does not load today
    new = edited(old, section, key, value)
    cfg = parse_config(new, path)
    atomic_write_text(path, new)
    return cfg


def edited(text: str, section: str, key: str, value: Value) -> str:
    """``text`` with ``[section] key`` set to ``value``; everything else as it was."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:  # parse_config refuses it first; this is the editor's own view
        raise ConfigError("<config>", "(syntax)", f"valid TOML ({exc})") from exc
    table: Any = doc
    walked: list[str] = []
    for part in [p for p in section.split(".") if p]:
        walked.append(part)
        if part not in table:
            table[part] = tomlkit.table()
        table = table[part]
        if not hasattr(table, "__setitem__") or isinstance(table, str | list):
            raise ConfigError("<config>", ".".join(walked), "a table", table)
    table[key] = value
    return tomlkit.dumps(doc)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string literal (quotes, backslashes and control characters
    escaped the way TOML wants them)."""
    return tomlkit.string(value).as_string()


__all__ = ["ConfigError", "edited", "set_value", "toml_string"]
