"""Tool arguments checked against the tool's JSON schema before anything runs.

The subset tools here use: ``type``, ``required``, ``properties``, ``enum``, ``additionalProperties``,
``minimum``/``maximum`` and array ``items``. Every problem comes back as one sentence the model can
act on; a path that does not exist names the closest paths that do (:func:`missing_path`).
"""

from __future__ import annotations

import difflib
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}


def _type_problem(name: str, spec: dict[str, Any], value: Any) -> str:
    expected = spec.get("type")
    if not isinstance(expected, str) or expected not in _TYPES:
        return ""
    if isinstance(value, bool) and expected in ("integer", "number"):
        return f"argument {name!r} must be {expected}, got boolean"
    if not isinstance(value, _TYPES[expected]):
        return f"argument {name!r} must be {expected}, got {type(value).__name__}"
    if expected in ("integer", "number"):
        if "minimum" in spec and value < spec["minimum"]:
            return f"argument {name!r} must be at least {spec['minimum']}, got {value}"
        if "maximum" in spec and value > spec["maximum"]:
            return f"argument {name!r} must be at most {spec['maximum']}, got {value}"
    if expected == "array" and isinstance(spec.get("items"), dict) and isinstance(value, list):
        for i, item in enumerate(value):
            problem = _type_problem(f"{name}[{i}]", spec["items"], item)
            if problem:
                return problem
    if "enum" in spec and value not in spec["enum"]:
        return _enum_problem(name, value, [str(v) for v in spec["enum"]])
    return ""


def _enum_problem(name: str, value: Any, allowed: list[str]) -> str:
    close = difflib.get_close_matches(str(value), allowed, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    if len(allowed) <= 12:
        hint += f" (one of: {', '.join(allowed)})"
    return f"argument {name!r} is {value!r}, which is not allowed{hint}"


def validate(schema: dict[str, Any], args: dict[str, Any]) -> str:
    """The first problem with ``args`` under ``schema`` ("" when they fit)."""
    if not isinstance(args, dict):
        return "arguments must be a JSON object"
    props: dict[str, Any] = schema.get("properties", {}) if schema else {}
    for name in schema.get("required", []) if schema else []:
        if name not in args:
            return (f"missing required argument {name!r}; expected arguments: "
                    + ", ".join(props))
    if schema and schema.get("additionalProperties") is False:
        extra = [k for k in args if k not in props]
        if extra:
            return (f"unknown argument {extra[0]!r}; expected arguments: " + ", ".join(props))
    for name, value in args.items():
        spec = props.get(name)
        if isinstance(spec, dict):
            problem = _type_problem(name, spec, value)
            if problem:
                return problem
    return ""


def missing_path(raw: str, paths: list[str]) -> str:
    """The message for a path that does not exist, naming the closest ones that do."""
    raw = raw.strip().removeprefix("./").strip("/")
    close = difflib.get_close_matches(raw, paths, n=3, cutoff=0.4)
    by_name = [p for p in paths if p.rsplit("/", 1)[-1] == raw.rsplit("/", 1)[-1]]
    close = list(dict.fromkeys([*by_name, *close]))[:3]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"file not found: {raw}.{hint}"
