"""The answer format of a declarative task: a regular expression or a JSON schema, each with the
grammar that forces it on servers that take one, and a strict reader for those that do not.

Regex: the whole reply (outer blank space aside) must match; the answer is the named groups (an
object), else the one group, else the whole reply, typed by ``type`` (str, int, float). The grammar
is compiled from the regex's parse tree; constructs a grammar cannot express (look-arounds,
back-references, inline flags) leave the task without a grammar, which it says, and the reader
alone red-flags.

JSON schema: a subset that both the grammar and the reader understand (type, properties,
required, additionalProperties false, items, enum, const, minimum/maximum, minLength/maxLength,
minItems/maxItems, pattern). Anything else in the schema is refused when the task is loaded.
"""

from __future__ import annotations

import json
import math
import re
import re._constants as sc
import re._parser as sp
from dataclasses import dataclass
from typing import Any

from app.core.process.task import TaskError

VALUE_TYPES = ("str", "int", "float")
SCHEMA_KEYS = {"type", "properties", "required", "additionalProperties", "items", "enum", "const",
               "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "pattern",
               "description", "title"}
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict, "array": list, "string": str, "integer": int, "number": (int, float),
    "boolean": bool, "null": type(None)}


class Unsupported(Exception):
    pass


# --- regex -> GBNF ---------------------------------------------------------------------------------

def _char(c: int) -> str:
    ch = chr(c)
    if ch.isalnum() and c < 128:
        return ch
    return f"\\x{c:02x}" if c < 256 else f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"


_CATEGORIES = {sc.CATEGORY_DIGIT: (False, "0-9"), sc.CATEGORY_NOT_DIGIT: (True, "0-9"),
               sc.CATEGORY_WORD: (False, "a-zA-Z0-9_"), sc.CATEGORY_NOT_WORD: (True, "a-zA-Z0-9_"),
               sc.CATEGORY_SPACE: (False, "\\x20\\x09\\x0a\\x0d\\x0c\\x0b"),
               sc.CATEGORY_NOT_SPACE: (True, "\\x20\\x09\\x0a\\x0d\\x0c\\x0b")}


def _char_class(items: list[tuple[Any, Any]]) -> str:
    negate = False
    parts: list[str] = []
    negated_parts: list[str] = []
    for op, arg in items:
        if op is sc.NEGATE:
            negate = True
        elif op is sc.LITERAL:
            parts.append(_char(arg))
        elif op is sc.RANGE:
            parts.append(f"{_char(arg[0])}-{_char(arg[1])}")
        elif op is sc.CATEGORY and arg in _CATEGORIES:
            neg, body = _CATEGORIES[arg]
            (negated_parts if neg else parts).append(body)
        else:
            raise Unsupported(f"character class item {op}")
    if negated_parts:
        if parts or negate or len(negated_parts) > 1:
            raise Unsupported("a negated category mixed into a class")
        return f"[^{negated_parts[0]}]"
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _seq(tree: Any) -> str:
    out: list[str] = []
    literal = ""
    for op, arg in tree:
        if op is sc.LITERAL:
            literal += _char(arg)
            continue
        if literal:
            out.append(f'"{literal}"')
            literal = ""
        out.append(_node(op, arg))
    if literal:
        out.append(f'"{literal}"')
    return " ".join(x for x in out if x) or '""'


def _node(op: Any, arg: Any) -> str:
    if op is sc.NOT_LITERAL:
        return f"[^{_char(arg)}]"
    if op is sc.ANY:
        return "[^\\x0a]"
    if op is sc.IN:
        return _char_class(arg)
    if op is sc.AT:
        if arg in (sc.AT_BEGINNING, sc.AT_BEGINNING_STRING, sc.AT_END, sc.AT_END_STRING):
            return ""  # the whole reply is matched anyway
        raise Unsupported("word boundaries")
    if op is sc.BRANCH:
        return "(" + " | ".join(_seq(alt) for alt in arg[1]) + ")"
    if op is sc.SUBPATTERN:
        _group, add_flags, del_flags, sub = arg
        if add_flags or del_flags:
            raise Unsupported("inline flags")
        return f"({_seq(sub)})"
    if op in (sc.MAX_REPEAT, sc.MIN_REPEAT, sc.POSSESSIVE_REPEAT):
        lo, hi, sub = arg
        body = f"({_seq(sub)})"
        if hi is sc.MAXREPEAT:
            return {0: f"{body}*", 1: f"{body}+"}.get(lo, f"{body}{{{lo},}}")
        return f"{body}{{{lo},{hi}}}"
    raise Unsupported(str(op).lower())


def regex_gbnf(pattern: str) -> str:
    """A GBNF grammar for the language of ``pattern``; raises Unsupported when it cannot."""
    try:
        tree = sp.parse(pattern)
    except re.error as exc:
        raise TaskError(f"answer regex {pattern!r}: {exc}") from exc
    if tree.state.flags & ~(sc.SRE_FLAG_UNICODE):
        raise Unsupported("flags")
    return f"root ::= {_seq(tree)}\n"


# --- JSON schema subset ----------------------------------------------------------------------------

def check_schema(schema: Any, where: str = "schema") -> None:
    if not isinstance(schema, dict):
        raise TaskError(f"{where}: a JSON schema must be an object")
    unknown = set(schema) - SCHEMA_KEYS
    if unknown:
        raise TaskError(f"{where}: unsupported keyword(s) {', '.join(sorted(unknown))} "
                        f"(supported: {', '.join(sorted(SCHEMA_KEYS))})")
    kind = schema.get("type")
    if kind is not None and kind not in _JSON_TYPES:
        raise TaskError(f"{where}: unknown type {kind!r}")
    if schema.get("additionalProperties") not in (None, False):
        raise TaskError(f"{where}: additionalProperties may only be false")
    for name, sub in (schema.get("properties") or {}).items():
        check_schema(sub, f"{where}.{name}")
    if "items" in schema:
        check_schema(schema["items"], f"{where}[]")
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except re.error as exc:
            raise TaskError(f"{where}: pattern {schema['pattern']!r}: {exc}") from exc


def schema_errors(value: Any, schema: dict[str, Any], where: str = "answer") -> str:
    """"" when ``value`` fits ``schema``, else the first reason it does not."""
    kind = schema.get("type")
    if kind is not None:
        want = _JSON_TYPES[kind]
        if isinstance(value, bool) and kind in ("integer", "number"):
            return f"{where}: expected {kind}, got a boolean"
        if not isinstance(value, want):
            return f"{where}: expected {kind}, got {type(value).__name__}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} is not one of {schema['enum']}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: must be {schema['const']!r}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return f"{where}: not a finite number"
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where}: {value} is below {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where}: {value} is above {schema['maximum']}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength",
                                                                               math.inf):
            return f"{where}: length {len(value)} is out of range"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return f"{where}: does not match {schema['pattern']!r}"
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf):
            return f"{where}: {len(value)} items is out of range"
        for i, item in enumerate(value):
            why = schema_errors(item, schema.get("items") or {}, f"{where}[{i}]")
            if why:
                return why
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required", []):
            if name not in value:
                return f"{where}: missing {name!r}"
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            if extra:
                return f"{where}: unexpected {', '.join(sorted(extra))}"
        for name, sub in props.items():
            if name in value:
                why = schema_errors(value[name], sub, f"{where}.{name}")
                if why:
                    return why
    return ""


# --- the format ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerFormat:
    regex: str = ""
    schema: dict[str, Any] | None = None
    value_type: str = "str"
    grammar: str = ""
    note: str = ""  # why there is no grammar, when there is none

    @classmethod
    def build(cls, regex: str = "", schema: dict[str, Any] | None = None,
              value_type: str = "str") -> AnswerFormat:
        if bool(regex) == (schema is not None):
            raise TaskError("[answer] needs exactly one of regex or schema")
        if value_type not in VALUE_TYPES:
            raise TaskError(f"[answer] type must be one of {', '.join(VALUE_TYPES)}")
        if schema is not None:
            check_schema(schema)
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            return cls(schema=schema, grammar=json_schema_to_gbnf(json.dumps(schema)))
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise TaskError(f"[answer] regex {regex!r}: {exc}") from exc
        if compiled.groups > 1 and not compiled.groupindex and value_type != "str":
            raise TaskError("[answer] type applies to one group; name the groups instead")
        try:
            return cls(regex=regex, value_type=value_type, grammar=regex_gbnf(regex))
        except Unsupported as exc:
            return cls(regex=regex, value_type=value_type,
                       note=f"no grammar for this regex ({exc}); the reader alone red-flags")

    def read(self, text: str) -> tuple[Any, str]:
        """(answer, "") or (None, why the reply is not in the format)."""
        body = text.strip()
        if self.schema is not None:
            try:
                value = json.loads(body)
            except ValueError:
                return None, "not one JSON value"
            why = schema_errors(value, self.schema)
            return (None, why) if why else (value, "")
        m = re.fullmatch(self.regex, body)
        if m is None:
            return None, f"does not match {self.regex!r}"
        if m.re.groupindex:
            return m.groupdict(), ""
        raw = m.group(1) if m.re.groups == 1 else m.group(0) if not m.re.groups else list(m.groups())
        if self.value_type == "str" or not isinstance(raw, str):
            return raw, ""
        try:
            return (int(raw) if self.value_type == "int" else float(raw)), ""
        except ValueError:
            return None, f"{raw!r} is not a{'n int' if self.value_type == 'int' else ' float'}"

    def typed(self, value: Any) -> Any:
        """An expected answer from the input, in the answer's type (for the audit)."""
        if self.schema is None and self.value_type != "str" and isinstance(value, str):
            return int(value) if self.value_type == "int" else float(value)
        return value


def answer_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
