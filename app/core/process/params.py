"""A task's declared parameters: names, types, defaults, limits; ``--param key=value`` typed by them.

Every value is checked before anything runs: an unknown name, a missing required one, a value that
is not of its type, outside its range or not among its choices is a :class:`TaskError` that says
which and what is allowed. Checked values are JSON (a path becomes an absolute path string), so the
process spec stores them and a resume checks them again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.process.task import TaskError

TYPES = ("int", "float", "str", "bool", "path")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    """One parameter. ``type`` is one of int, float, str, bool, path (a path must exist)."""

    name: str
    type: str = "str"
    default: Any = REQUIRED
    help: str = ""
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise TaskError(f"parameter {self.name!r}: type must be one of {', '.join(TYPES)}, "
                            f"got {self.type!r}")
        if not self.name.isidentifier():
            raise TaskError(f"parameter name {self.name!r} is not an identifier")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        bits = [self.type]
        if self.choices:
            bits.append("one of " + "|".join(str(c) for c in self.choices))
        if self.min is not None or self.max is not None:
            lo = "" if self.min is None else f"{self.min:g}"
            hi = "" if self.max is None else f"{self.max:g}"
            bits.append(f"{lo}..{hi}")
        bits.append("required" if self.required else f"default {self.default!r}")
        return f"{self.name} ({', '.join(bits)})" + (f": {self.help}" if self.help else "")

    def parse(self, text: str) -> Any:
        """A command-line string as this parameter's JSON type (not yet range-checked)."""
        where = f"parameter {self.name}"
        word = text.strip()
        if self.type == "bool":
            if word.lower() not in _TRUE | _FALSE:
                raise TaskError(f"{where}: expected true or false, got {text!r}")
            return word.lower() in _TRUE
        if self.type == "int":
            try:
                return int(word, 10)
            except ValueError:
                raise TaskError(f"{where}: expected an integer, got {text!r}") from None
        if self.type == "float":
            try:
                return float(word)
            except ValueError:
                raise TaskError(f"{where}: expected a number, got {text!r}") from None
        return text

    def check(self, value: Any, base: Path | None = None) -> Any:
        """``value`` checked strictly against the type, range and choices; a path is made
        absolute (relative to ``base`` or the working directory) and must exist."""
        where = f"parameter {self.name}"
        if value is None and not self.required and self.default is None:
            return None
        ok = {"bool": isinstance(value, bool),
              "int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, int | float) and not isinstance(value, bool),
              "str": isinstance(value, str), "path": isinstance(value, str)}[self.type]
        if not ok:
            kind = {"bool": "true or false", "int": "an integer", "float": "a number",
                    "str": "text", "path": "a path"}[self.type]
            raise TaskError(f"{where}: expected {kind}, got {value!r}")
        out: Any = value
        if self.type == "float":
            out = float(value)
            if not math.isfinite(out):
                raise TaskError(f"{where}: expected a finite number, got {value!r}")
        if self.type == "path":
            path = Path(value).expanduser()
            if not path.is_absolute():
                path = (base or Path.cwd()) / path
            if not path.exists():
                raise TaskError(f"{where}: {path} does not exist")
            out = str(path.resolve())
        if self.choices and out not in self.choices:
            raise TaskError(f"{where}: {out!r} is not one of "
                            f"{', '.join(repr(c) for c in self.choices)}")
        if self.type in ("int", "float"):
            if self.min is not None and out < self.min:
                raise TaskError(f"{where}: {out} is below the minimum {self.min:g}")
            if self.max is not None and out > self.max:
                raise TaskError(f"{where}: {out} is above the maximum {self.max:g}")
        return out


Schema = tuple[Param, ...]


def split_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``; a pair without ``=`` or a repeated
    name is an error."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise TaskError(f"--param {pair!r}: expected NAME=VALUE")
        if name in out:
            raise TaskError(f"--param {name} given twice")
        out[name] = value
    return out


def parse_pairs(task: str, schema: Sequence[Param] | None,
                pairs: Mapping[str, str]) -> dict[str, Any]:
    """``--param`` strings typed by ``schema`` (checked afterwards by :func:`check_params`)."""
    if schema is None:
        if pairs:
            raise TaskError(f"task {task} declares no parameters, so --param "
                            f"{', '.join(sorted(pairs))} cannot be given to it")
        return {}
    known = {p.name: p for p in schema}
    return {name: known[name].parse(text) if name in known else text
            for name, text in pairs.items()}


def check_params(task: str, schema: Sequence[Param], values: Mapping[str, Any], *,
                 base: Path | None = None) -> dict[str, Any]:
    """All of ``schema``'s parameters, checked, with defaults filled in."""
    known = {p.name: p for p in schema}
    unknown = sorted(set(values) - set(known))
    if unknown:
        listing = "; ".join(p.describe() for p in schema) or "none"
        raise TaskError(f"task {task}: unknown parameter(s) {', '.join(unknown)} "
                        f"(its parameters: {listing})")
    out: dict[str, Any] = {}
    for p in schema:
        if p.name in values:
            out[p.name] = p.check(values[p.name], base)
        elif p.required:
            raise TaskError(f"task {task}: parameter {p.name} is required ({p.describe()}); "
                            f"give it as --param {p.name}=VALUE")
        else:
            out[p.name] = p.default
    return out


def schema_of(obj: Any) -> Schema | None:
    """A factory's declared schema (its ``params`` attribute), checked; None when it has none."""
    raw = getattr(obj, "params", None)
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or not all(isinstance(p, Param) for p in raw):
        raise TaskError(f"{getattr(obj, '__name__', obj)!r}: params must be a list of Param")
    names = [p.name for p in raw]
    if len(set(names)) != len(names):
        raise TaskError(f"{getattr(obj, '__name__', obj)!r}: a parameter is declared twice")
    return tuple(raw)
