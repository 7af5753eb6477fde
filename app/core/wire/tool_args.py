"""Unambiguous repairs of a parsed tool call before it is checked and run.

Small models call ``read`` for ``read_file``, pass ``file`` for ``path`` or ``cmd`` for
``command``, send numbers where strings are expected, or a list ``[1, 40]`` for ``lines``. Each
repair here has exactly one sensible reading; anything else is left for the structured error the
model gets back.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from app.core.agent.messages import ToolCall
from app.core.tools.base import ToolRegistry

# Other names models use for our tools (only applied when the real name is registered).
TOOL_ALIASES: dict[str, str] = {
    "read": "read_file", "cat": "read_file", "open_file": "read_file", "view_file": "read_file",
    "readfile": "read_file", "file_read": "read_file", "get_file": "read_file",
    "ls": "list_dir", "list": "list_dir", "listdir": "list_dir", "list_files": "list_dir",
    "list_directory": "list_dir", "dir": "list_dir",
    "write": "write_file", "create_file": "write_file", "writefile": "write_file",
    "file_write": "write_file", "save_file": "write_file",
    "edit": "edit_file", "replace": "edit_file", "str_replace": "edit_file",
    "replace_in_file": "edit_file",
    "run": "exec", "shell": "exec", "bash": "exec", "sh": "exec", "execute": "exec",
    "run_command": "exec", "run_shell": "exec", "terminal": "exec", "command": "exec",
    "execute_command": "exec", "run_code": "exec", "run_file": "exec", "run_script": "exec",
    "execute_file": "exec", "execute_script": "exec",
    "find_files": "glob", "search_files": "grep", "search_code": "grep",
    "fetch": "web_fetch", "fetch_url": "web_fetch", "get_url": "web_fetch", "browse": "web_fetch",
    "search": "web_search", "search_web": "web_search", "google": "web_search",
}

# The program a script of each type is run with ("run_file" with a path becomes this command).
SCRIPT_INTERPRETERS = {".py": "python", ".sh": "sh", ".bash": "bash", ".js": "node",
                       ".rb": "ruby", ".pl": "perl"}

# Other names for arguments, per target argument.
ARG_ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("file", "filename", "file_path", "filepath", "file_name", "dir", "directory",
             "folder", "target", "name"),
    "content": ("text", "contents", "data", "body", "code", "file_content"),
    "command": ("cmd", "command_line", "script", "shell", "code", "bash"),
    "old_text": ("old", "old_str", "old_string", "search", "find", "original"),
    "new_text": ("new", "new_str", "new_string", "replacement", "replace", "updated"),
    "url": ("link", "href", "uri", "address"),
    "query": ("q", "search_query", "search", "text", "terms"),
    "pattern": ("regex", "query", "search", "glob", "expr"),
    "lines": ("line_range", "range"),
}


def _norm_name(name: str) -> str:
    return re.sub(r"[\s\-.]+", "_", name.strip()).lower()


def repair_name(name: str, known: set[str]) -> str:
    if name in known:
        return name
    norm = _norm_name(name)
    if norm in known:
        return norm
    for prefix in ("functions.", "tools.", "tool_", "function_"):
        if norm.startswith(prefix.replace(".", "_")) and norm[len(prefix):] in known:
            return norm[len(prefix):]
    alias = TOOL_ALIASES.get(norm)
    return alias if alias in known else name


def _coerce(value: Any, spec: dict[str, Any], key: str) -> Any:
    expected = spec.get("type")
    if expected == "string":
        # A number for a path or a command is a confused call that deserves the type error; a
        # number for a line range has one reading.
        if key == "lines" and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if key == "lines" and isinstance(value, list) and 1 <= len(value) <= 2 and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ":".join(str(v) for v in value) if len(value) == 2 else str(value[0])
        if isinstance(value, list) and all(isinstance(v, str) for v in value) and key in (
                "command", "content"):
            return (" " if key == "command" else "\n").join(value)
    if expected == "integer" and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    if expected == "number" and isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    if expected == "boolean" and isinstance(value, str) and value.strip().lower() in (
            "true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    return value


def repair_arguments(args: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any],
                                                                            list[str]]:
    props: dict[str, Any] = schema.get("properties", {}) if schema else {}
    required = list(schema.get("required", [])) if schema else []
    out = dict(args)
    notes: list[str] = []
    if "_raw" in out and len(out) == 1:  # arguments were a string that was not JSON
        strings = [k for k in required if props.get(k, {}).get("type") == "string"]
        if len(strings) == 1:
            out = {strings[0]: out.pop("_raw")}
            notes.append(f"raw arguments taken as {strings[0]}")
    for target, aliases in ARG_ALIASES.items():
        if target not in props or target in out:
            continue
        found = [a for a in aliases if a in out and a not in props]
        if len(found) == 1:
            out[target] = out.pop(found[0])
            notes.append(f"{found[0]}→{target}")
    if len(props) and "value" in out and "value" not in props and len(out) == 1:
        strings = [k for k in required if props.get(k, {}).get("type") == "string"]
        if len(strings) == 1:
            out = {strings[0]: out.pop("value")}
    for key, value in list(out.items()):
        spec = props.get(key)
        if isinstance(spec, dict):
            out[key] = _coerce(value, spec, key)
    return out, notes


def repair_call(call: ToolCall, registry: ToolRegistry) -> tuple[ToolCall, list[str]]:
    """The call with its name and arguments repaired where the reading is unambiguous."""
    notes: list[str] = []
    name = repair_name(call.name, registry.names())
    if name != call.name:
        notes.append(f"{call.name}→{name}")
    tool = registry.get(name)
    args = call.arguments
    if name == "exec" and not any(k in args for k in ("command", *ARG_ALIASES["command"])):
        args = _script_command(args, notes)
    if tool is not None:
        args, arg_notes = repair_arguments(args, tool.spec.parameters)
        notes += arg_notes
    if name == call.name and args == call.arguments:
        return call, notes
    return replace(call, name=name, arguments=args), notes


def _script_command(args: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """``{"command": "python primes.py"}`` for a run call that names only a script file
    (``run_file {"path": "primes.py"}``): one reading, the script run by its interpreter."""
    for key in ("path", *ARG_ALIASES["path"]):
        value = args.get(key)
        if isinstance(value, str) and "." in value:
            program = SCRIPT_INTERPRETERS.get("." + value.rsplit(".", 1)[-1].lower())
            if program and not any(c in value for c in " ;|&$`<>()'\""):
                notes.append(f"{key}→command")
                return {"command": f"{program} {value}"}
    return args


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,),
}


def check_arguments(schema: dict[str, Any], args: dict[str, Any]) -> str:
    """A structured message for missing or wrongly typed arguments ("" when fine)."""
    props: dict[str, Any] = schema.get("properties", {}) if schema else {}
    for name in schema.get("required", []) if schema else []:
        if name not in args:
            return f"missing required argument {name!r}; expected arguments: " + ", ".join(props)
    for name, value in args.items():
        spec = props.get(name)
        if spec is None:
            continue
        expected = spec.get("type")
        types_ = _JSON_TYPES.get(expected) if isinstance(expected, str) else None
        if types_ is None:
            continue
        if isinstance(value, bool) and expected in ("integer", "number"):
            return f"argument {name!r} must be {expected}, got boolean"
        if not isinstance(value, types_):
            return f"argument {name!r} must be {expected}, got {type(value).__name__}"
    return ""
