"""Checks the harness runs on what a tool returned: a syntax check of a written file, the row
count of a table that was read. Both are computed here, never left to the model."""

from __future__ import annotations

import csv
import io
import json
import tomllib
from pathlib import Path

_TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}


def table_note(rel: str, text: str) -> str:
    """"[data/items.csv: a header line and 6 data rows]" for a whole table file ("" for
    other files or a read that was cut short)."""
    delimiter = _TABLE_DELIMITERS.get(Path(rel).suffix.lower()) if rel else None
    if delimiter is None or "[read_file stopped after" in text:
        return ""
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter)
                if any(cell.strip() for cell in r)]
    except csv.Error:
        return ""
    if not rows:
        return ""
    data = len(rows) - 1
    # Only the data rows are stated: a total that counts the header would make the most common
    # wrong answer look read.
    return f"[{rel}: a header line and {data} data row{'s' if data != 1 else ''}]"


def syntax_note(path: Path, rel: str) -> str:
    """"Syntax check: OK" / the first error, for file types with a parser at hand."""
    suffix = path.suffix.lower()
    if suffix not in (".py", ".json", ".toml"):
        return ""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    try:
        if suffix == ".py":
            compile(text, rel, "exec")
        elif suffix == ".json":
            json.loads(text)
        else:
            tomllib.loads(text)
    except SyntaxError as exc:
        shown = f" (`{exc.text.strip()[:80]}`)" if exc.text and exc.text.strip() else ""
        return (f"Syntax check: {rel} line {exc.lineno}{shown}: {exc.msg}. The file is broken; "
                "fix it before anything else.")
    except ValueError as exc:
        return f"Syntax check: {rel} is not valid {suffix[1:].upper()}: {exc}. Fix it."
    return f"Syntax check: {rel} OK."
