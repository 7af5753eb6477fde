"""Checks the harness runs on what a tool returned: a syntax check of a written file, the row
count of a table that was read. Both are computed here, never left to the model."""

from __future__ import annotations

import csv
import io
import json
import re
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


_TASK_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([ xX])\]", re.MULTILINE)


def checklist_note(rel: str, text: str) -> str:
    """"[todo.md: a task list of 7 items, 4 open ([ ]) and 3 done ([x])]" for a whole Markdown
    file with a task list ("" otherwise). The 0.5B model counted the open items wrong by hand
    and in the programs it wrote (3 of 4)."""
    if Path(rel).suffix.lower() not in (".md", ".markdown", ".txt") or \
            "[read_file stopped after" in text:
        return ""
    marks = _TASK_ITEM.findall(text)
    if not marks:
        return ""
    done = sum(1 for m in marks if m.lower() == "x")
    return (f"[{rel}: a task list of {len(marks)} item{'s' if len(marks) != 1 else ''}, "
            f"{len(marks) - done} open ([ ]) and {done} done ([x])]")


_HIT = re.compile(r"^[^\s:]+:\d+:[ \t]?(.*)$")
# A number standing alone: not part of a time (14:30), a date (2024-05-02), a version (0.4.2)
# or a name (v2, item3).
_LONE_NUMBER = re.compile(r"(?<![\w.:/-])\d+(?:\.\d+)?(?![\w:/-]|\.\d)")


def hits_note(text: str) -> str:
    """"[the 2 matching lines hold one number each (5, 8); together 13]" for a grep result whose
    every line holds exactly one number ("" otherwise). Asked how many kilometres the journal's
    "ran 5 km" and "ran 8 km" make, the 0.5B model said 13, and the check of its answer could not
    tell 13 from a guess; its programs to add them up failed. Like a spreadsheet's sum of the
    selected cells, the total is worked out here and the answer can quote it."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    hits = [m.group(1) for m in map(_HIT.match, lines) if m]
    if len(hits) < 2 or len(hits) != len(lines):
        return ""
    values: list[str] = []
    for hit in hits:
        found = _LONE_NUMBER.findall(hit)
        if len(found) != 1:
            return ""
        values.append(found[0])
    total = sum(float(v) for v in values)
    shown = f"{total:g}" if any("." in v for v in values) else str(int(total))
    return (f"[the {len(hits)} matching lines hold one number each ({', '.join(values)}); "
            f"together {shown}]")


def listing_note(rel: str, text: str) -> str:
    """"[inventory: 5 files (4 .py, 1 .md) and 1 folder]" for a whole directory listing ("" for
    an empty or capped one). Like a table's rows, what a listing holds is counted here: asked
    "How many .py files are in the inventory folder?" the 0.5B model listed it and guessed."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or any(ln.startswith("… and ") for ln in lines) or lines == ["(empty directory)"]:
        return ""
    folders = sum(1 for ln in lines if ln.endswith("/"))
    files = [ln for ln in lines if not ln.endswith("/")]
    kinds: dict[str, int] = {}
    for name in files:
        suffix = Path(name).suffix.lower()
        if suffix:
            kinds[suffix] = kinds.get(suffix, 0) + 1
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    where = rel.strip("/") or "."
    parts = [f"{len(files)} file{'s' if len(files) != 1 else ''}"
             + (f" ({by_kind})" if by_kind else "")]
    if folders:
        parts.append(f"{folders} folder{'s' if folders != 1 else ''}")
    return f"[{where}: {' and '.join(parts)}]"


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
