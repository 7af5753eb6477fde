"""Find tool calls in model text: ``<tool_call>{json}</tool_call>`` tags, fenced or bare JSON.

Small local models rarely follow one format. Qwen2.5-Coder never emits the ``<tool_call>`` tag and
writes bare or fenced JSON instead; Nanbeige and Hermes-style models write the tags (several per
message); Llama-3.1 prefixes ``<|python_tag|>``, Mistral ``[TOOL_CALLS]``, and some templates use
``<function=name>{args}</function>``. The parser accepts all of them, takes several JSON objects in
a row as several calls, repairs JSON when the fix is unambiguous, and reports what it could not
parse so the loop can tell the model once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from app.core.agent.messages import ToolCall, new_call_id

# A tag's content ends at its closing tag, at the next opening tag (a missing close), or at the end.
TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|(?=<tool_call>)|$)", re.DOTALL)
FUNC_RE = re.compile(r"<function=([\w.\-]+)>\s*(.*?)\s*(?:</function>|(?=<function=)|$)", re.DOTALL)
CALL_PREFIXES = ("[TOOL_CALLS]", "<|python_tag|>")
FENCE_RE = re.compile(r"```(?:json|tool_call|tool)?\s*\n(.*?)\n?```", re.DOTALL)


@dataclass(frozen=True)
class ParseResult:
    text: str  # the visible text, with call markup removed
    calls: tuple[ToolCall, ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)


def _balance(s: str) -> str:
    """Close unclosed strings, objects and arrays at the end (a truncated reply)."""
    stack: list[str] = []
    in_str = esc = False
    for ch in s:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack and stack[-1] == ch:
            stack.pop()
    return s + ('"' if in_str else "") + "".join(reversed(stack))


def loads_lenient(raw: str, *, cut: bool = False) -> Any:
    """``json.loads`` with repairs: control characters inside strings, trailing commas, a truncated
    end, single quotes; then, for text that starts like JSON, json-repair (invalid escapes such as
    ``\\d``, Python ``True``/``None``, unquoted keys, a missing comma).

    json-repair never fails, so it only sees text that starts with ``{`` or ``[`` and only a value
    it turns into an object or array counts. ``cut`` (the reply stopped at the token limit) skips
    it: a cut call is incomplete, and guessing its end would run something the model never wrote.
    """
    raw = raw.strip()
    try:
        return json.loads(raw, strict=False)  # a literal newline inside a string is still JSON
    except json.JSONDecodeError:
        pass
    candidates = [
        re.sub(r",\s*([}\]])", r"\1", raw),
        _balance(re.sub(r",\s*$", "", raw)),
    ]
    if "'" in raw and '"' not in raw:
        candidates.append(raw.replace("'", '"'))
    for cand in candidates:
        try:
            return json.loads(cand, strict=False)
        except json.JSONDecodeError:
            continue
    if not cut and raw[:1] in ("{", "["):
        value = _repaired(raw)
        if value is not None:
            return value
    raise ValueError(f"not valid JSON: {raw[:120]!r}")


def _repaired(raw: str) -> dict[str, Any] | list[Any] | None:
    """json-repair's reading of ``raw`` when it is a non-empty object or array."""
    import json_repair

    try:
        value = json_repair.loads(raw)
    except Exception:  # it is meant never to raise; a bug there must not end the turn
        return None
    return value if isinstance(value, dict | list) and value else None


def call_from_obj(obj: Any, known: set[str] | None = None, *, cut: bool = False) -> ToolCall | None:
    """Accept ``{"name", "arguments"}`` and common variants (``parameters``, ``function``)."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):
        obj = {**obj["function"], "id": obj.get("id")}
    name = obj.get("name") or obj.get("tool") or obj.get("tool_name")
    if not isinstance(name, str) or not name:
        return None
    shaped = any(k in obj for k in ("arguments", "parameters", "args"))
    if known is not None and name not in known and not shaped:
        return None  # an unknown name counts as a call only when shaped like one
    args = obj.get("arguments", obj.get("parameters", obj.get("args", {})))
    if isinstance(args, str):
        try:
            args = loads_lenient(args, cut=cut) if args.strip() else {}
        except ValueError:
            args = {"_raw": args}
    if not isinstance(args, dict):
        args = {"value": args}
    cid = obj.get("id")
    return ToolCall(id=cid if isinstance(cid, str) and cid else new_call_id(), name=name,
                    arguments=args)


def json_values(raw: str, *, cut: bool = False) -> list[Any]:
    """Every JSON value in ``raw`` in order (``{..}{..}``, one per line, or comma-separated);
    the last one may be repaired, and prose after a value ends the list. Raises ``ValueError``
    when the first cannot be read."""
    dec = json.JSONDecoder(strict=False)
    values: list[Any] = []
    i, n = 0, len(raw)
    while i < n:
        while i < n and raw[i] in " \t\r\n,;":
            i += 1
        if i >= n:
            break
        if values and raw[i] not in "{[":
            break  # a call followed by prose ("I will read it now.")
        try:
            value, i = dec.raw_decode(raw, i)
        except json.JSONDecodeError:
            values.append(loads_lenient(raw[i:], cut=cut))  # the rest, repaired, or ValueError
            break
        values.append(value)
    if not values:
        raise ValueError("no JSON found")
    return values


def _calls_from_json(raw: str, known: set[str] | None,
                     cut: bool = False) -> tuple[list[ToolCall], str | None]:
    try:
        values = json_values(raw, cut=cut)
    except ValueError as exc:
        return [], str(exc)
    items: list[Any] = []
    for v in values:
        items.extend(v if isinstance(v, list) else [v])
    calls = [c for c in (call_from_obj(i, known, cut=cut) for i in items) if c is not None]
    return calls, None


def _unreadable_without_repair(raw: str) -> str | None:
    try:
        json_values(raw, cut=True)
    except ValueError as exc:
        return str(exc)
    return None


def parse_tool_calls(text: str, known: set[str] | None = None, *, cut: bool = False) -> ParseResult:
    """Split ``text`` into visible text and tool calls. ``known`` is the set of tool names;
    ``cut`` says the reply stopped at the token limit (see :func:`loads_lenient`)."""
    errors: list[str] = []
    calls: list[ToolCall] = []

    if "<tool_call>" in text:
        for m in TAG_RE.finditer(text):
            if not m.group(1).strip():
                continue
            found, err = _calls_from_json(m.group(1), None, cut)
            if err:
                errors.append(f"could not parse <tool_call> content: {err}")
            calls.extend(found)
        visible = TAG_RE.sub("", text).strip()
        return ParseResult(visible, tuple(calls), tuple(errors))
    if "<function=" in text:
        for m in FUNC_RE.finditer(text):
            try:
                args = loads_lenient(m.group(2), cut=cut) if m.group(2).strip() else {}
            except ValueError as exc:
                errors.append(f"could not parse <function={m.group(1)}> arguments: {exc}")
                continue
            found_call = call_from_obj({"name": m.group(1), "arguments": args}, None)
            if found_call is not None:
                calls.append(found_call)
        return ParseResult(FUNC_RE.sub("", text).strip(), tuple(calls), tuple(errors))
    lead = text.lstrip()
    for prefix in CALL_PREFIXES:
        if lead.startswith(prefix):
            found, err = _calls_from_json(lead[len(prefix):], None, cut)
            if found:
                return ParseResult("", tuple(found), ())
            if err:
                return ParseResult("", (), (f"could not parse {prefix} call: {err}",))

    visible_parts: list[str] = []
    last = 0
    for m in FENCE_RE.finditer(text):
        found, _ = _calls_from_json(m.group(1), known, cut)
        if found:
            calls.extend(found)
            visible_parts.append(text[last:m.start()])
            last = m.end()
    if calls:
        visible_parts.append(text[last:])
        return ParseResult("".join(visible_parts).strip(), tuple(calls), ())

    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        found, err = _calls_from_json(stripped, known, cut)
        if found:
            return ParseResult("", tuple(found), ())
        if '"name"' in stripped or "'name'" in stripped:
            # json-repair reads anything; what only it could read and still is no call was a
            # broken call, not an answer.
            err = err or _unreadable_without_repair(stripped)
            if err:
                return ParseResult("", (), (f"could not parse tool call JSON: {err}",))
    # A reply that is prose followed by one JSON object on its own.
    idx = text.rfind("\n{")
    if idx >= 0:
        found, _ = _calls_from_json(text[idx + 1:], known, cut)
        if found:
            return ParseResult(text[:idx].strip(), tuple(found), ())
    return ParseResult(text, (), ())


class MarkupFilter:
    """Hide ``<tool_call>…</tool_call>`` (and ``<function=…>…</function>``) from a stream of
    deltas, even when a tag is split across them."""

    PAIRS = (("<tool_call>", "</tool_call>"), ("<function=", "</function>"))

    def __init__(self) -> None:
        self._buf = ""
        self._close: str | None = None  # the closing tag we are inside of

    def feed(self, delta: str) -> str:
        self._buf += delta
        out: list[str] = []
        while self._buf:
            if self._close is not None:
                end = self._buf.find(self._close)
                if end < 0:
                    keep = len(self._close) - 1
                    self._buf = self._buf[-keep:] if len(self._buf) > keep else self._buf
                    break
                self._buf = self._buf[end + len(self._close):]
                self._close = None
                continue
            hits = [(self._buf.find(o), o, c) for o, c in self.PAIRS if o in self._buf]
            if hits:
                start, opening, closing = min(hits)
                out.append(self._buf[:start])
                self._buf = self._buf[start + len(opening):]
                self._close = closing
                continue
            # Hold back a suffix that could be the beginning of an opening tag.
            hold = 0
            for opening, _ in self.PAIRS:
                for n in range(min(len(opening) - 1, len(self._buf)), 0, -1):
                    if opening.startswith(self._buf[-n:]):
                        hold = max(hold, n)
                        break
            out.append(self._buf[: len(self._buf) - hold])
            self._buf = self._buf[len(self._buf) - hold:]
            break
        return "".join(out)

    def flush(self) -> str:
        rest, self._buf = ("" if self._close is not None else self._buf), ""
        return rest


class CallStreamFilter:
    """Decide, as deltas arrive, which text the user should see while a reply may hold a tool call.

    ``<tool_call>`` spans are hidden as they stream. A reply that opens with ``{``/``[`` or reaches a
    fenced JSON block is held back from that point; :meth:`finish` releases it if, once parsed, it
    turned out not to be a tool call.

    A delta costs the same however long the reply already is: the text shown is kept as a list of
    pieces, markers are looked for in the short unshown tail (a tail that may begin a marker is
    never shown, so a marker cannot start in text already shown), and the reply's first visible
    character is judged once.
    """

    MARKERS = ("```json", "```tool", "\n{")
    _LONGEST = max(len(m) for m in MARKERS)

    def __init__(self) -> None:
        self._markup = MarkupFilter()
        self._shown: list[str] = []
        self._shown_len = 0
        self._pending = ""  # seen and not shown: the tail that may begin a marker, plus the delta
        self._holding = False
        self._lead = ""  # the reply's start without leading whitespace, until it is judged
        self._lead_done = False

    @property
    def holding(self) -> bool:
        """Text is being held back because it may be a tool call (a steer must not cut it)."""
        return self._holding

    @property
    def emitted(self) -> str:
        return "".join(self._shown)

    def _emit(self, text: str) -> str:
        if text:
            self._shown.append(text)
            self._shown_len += len(text)
        return text

    def _hold(self, at: int) -> str:
        """Hold from ``at`` (an offset into the unshown tail): show what comes before it."""
        self._holding = True
        out = self._emit(self._pending[:at])
        self._pending = ""
        return out

    def feed(self, delta: str) -> str:
        visible = self._markup.feed(delta)
        if not visible or self._holding:
            return ""
        self._pending += visible
        if not self._lead_done:
            # "[" also covers "[TOOL_CALLS]"; "<|" starts "<|python_tag|>" (never prose).
            self._lead += visible if self._lead else visible.lstrip()
            if self._lead[:1] in ("{", "[") or self._lead[:2] == "<|":
                return self._hold(len(self._pending) - len(self._pending.lstrip()))
            self._lead_done = bool(self._lead) and self._lead != "<"
        for marker in self.MARKERS:
            idx = self._pending.find(marker)
            if idx >= 0:
                return self._hold(idx)
        # Keep back a tail that might be the start of a marker.
        keep = 0
        for n in range(1, min(self._LONGEST, len(self._pending)) + 1):
            tail = self._pending[-n:]
            if any(m.startswith(tail) for m in self.MARKERS):
                keep = n
        out = self._pending[:len(self._pending) - keep]
        self._pending = self._pending[len(self._pending) - keep:]
        return self._emit(out)

    def finish(self, final_visible: str) -> str:
        """Text still to show, given the reply's visible text once calls were parsed out."""
        self._markup.flush()
        shown = self.emitted
        rest = final_visible[len(shown):] if final_visible.startswith(shown) else ""
        self._emit(rest)
        return rest
