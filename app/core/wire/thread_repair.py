"""Canonical history → wire messages a particular chat template accepts.

History is never mutated to suit a model; every send renders it afresh from the canonical
:class:`~app.core.agent.messages.Message` list, guided by the template's probed
:class:`~app.core.wire.template_caps.TemplateCaps`:

1. tool pairing: reused call ids are renamed, results that pair with no call (a second result,
   a missing call) are folded into user text, calls left without a result get an explicit
   "interrupted" result (so no call is ever left dangling and no result is lost);
2. roles the template lacks are folded into ones it has: a leading system message into the first
   user message, later system messages, notices and summaries into user text, tool calls into
   assistant text (the JSON the model itself writes, arguments kept: dropping them makes small
   models call again) and tool results into user text;
3. strict alternation: consecutive same-role messages are merged, the thread starts with a user
   message and ends with one where the template requires it.

User and tool content is only ever moved or prefixed, never dropped (the property tests check it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from app.core.agent.messages import Message, ToolCall
from app.core.wire.template_caps import TemplateCaps

log = logging.getLogger(__name__)

INTERRUPTED = "[interrupted: this tool call was not completed]"
RESUMED = "[Conversation resumed]"
CONTINUE = "Continue."
NOTICE_PREFIX = "[System notice] "
SUMMARY_PREFIX = "[Context summary]\n"


def calls_as_text(msg: Message) -> str:
    """Tool calls written as the JSON objects the model itself emits (keeps the arguments)."""
    return "\n".join(
        json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
        for c in msg.tool_calls
    )


def result_as_text(msg: Message) -> str:
    return f"[Tool result: {msg.name or 'tool'}]\n{msg.content}"


def _fresh_id(original: str, taken: set[str]) -> str:
    base = original or "call"
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def unique_call_ids(calls: Sequence[ToolCall], history: Sequence[Message]) -> list[ToolCall]:
    """``calls`` with every id unique against ``history`` and each other: servers that number
    calls per response send ``call_0`` every time, and a reused id would pair a later result
    with an earlier call. Used when a reply enters the history."""
    taken = {c.id for m in history for c in m.tool_calls}
    taken |= {m.tool_call_id for m in history if m.tool_call_id}
    out: list[ToolCall] = []
    for c in calls:
        new = c.id if c.id and c.id not in taken else _fresh_id(c.id, taken)
        taken.add(new)
        out.append(c if new == c.id else replace(c, id=new))
    return out


def repair_tool_pairs(messages: list[Message]) -> list[Message]:
    """Pair every tool call with one result; fold results that pair with nothing into text.

    A result belongs to the calls of the nearest preceding assistant message; anything else that
    comes between (a user message, a notice) closes those calls first, and a call left without a
    result gets an explicit "interrupted" one. A call id used before (or twice in one message)
    is renamed here, with its results, so a history from a server that numbers calls per
    response pairs as it was meant to. A result that still pairs with nothing (a second result
    for one call, a result whose call is missing) becomes user text after the pairs, so the model
    still reads it: nothing is dropped.
    """
    out: list[Message] = []
    open_calls: dict[str, ToolCall] = {}  # wire id -> call, in call order
    by_original: dict[str, list[str]] = {}  # id as sent -> wire ids still waiting for a result
    seen: set[str] = set()
    folded: list[Message] = []

    def close_open() -> None:
        for call in open_calls.values():
            out.append(Message(role="tool", content=INTERRUPTED, tool_call_id=call.id,
                               name=call.name, is_error=True))
        open_calls.clear()
        by_original.clear()
        out.extend(folded)
        folded.clear()

    for msg in messages:
        if msg.role == "tool":
            original = msg.tool_call_id or ""
            waiting = by_original.get(original)
            if waiting:
                wire = waiting.pop(0)
                del open_calls[wire]
                out.append(msg if wire == original else replace(msg, tool_call_id=wire))
            else:
                folded.append(Message(role="user", content=result_as_text(msg)))
            continue
        close_open()
        if msg.role == "assistant" and msg.tool_calls:
            calls: list[ToolCall] = []
            for c in msg.tool_calls:
                wire = c.id if c.id and c.id not in seen else _fresh_id(c.id, seen)
                seen.add(wire)
                calls.append(c if wire == c.id else replace(c, id=wire))
                open_calls[wire] = calls[-1]
                by_original.setdefault(c.id, []).append(wire)
            if any(a is not b for a, b in zip(calls, msg.tool_calls, strict=True)):
                msg = replace(msg, tool_calls=tuple(calls))
        out.append(msg)
    close_open()
    return out


def _native_call(call_id: str, name: str, arguments: dict[str, Any],
                 as_object: bool) -> dict[str, Any]:
    args: Any = arguments if as_object else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def render_thread(messages: Sequence[Message], caps: TemplateCaps | None = None, *,
                  native_tools: bool = True) -> list[dict[str, Any]]:
    """Wire messages (OpenAI chat shape) for a template with constraints ``caps``.

    ``native_tools=False`` asks for tool calls as text even where the template could render
    them (models decoding calls under a JSON grammar see the same JSON in their history).
    """
    caps = caps or TemplateCaps()
    strict = caps.alternation
    native_calls = native_tools and caps.tool_calls and not strict
    msgs = repair_tool_pairs(list(messages))

    lead: list[str] = []
    i = 0
    while i < len(msgs) and msgs[i].role == "system":
        if msgs[i].content:
            lead.append(msgs[i].content)
        i += 1

    out: list[dict[str, Any]] = []
    call_native: dict[str, bool] = {}

    def user_text(text: str) -> None:
        out.append({"role": "user", "content": text})

    for msg in msgs[i:]:
        if msg.role == "user":
            user_text(msg.content)
        elif msg.role == "system":
            if caps.system_mid and caps.system_role and not strict:
                out.append({"role": "system", "content": msg.content})
            else:
                user_text(NOTICE_PREFIX + msg.content)
        elif msg.role == "notice":
            user_text(NOTICE_PREFIX + msg.content)
        elif msg.role == "summary":
            user_text(SUMMARY_PREFIX + msg.content)
        elif msg.role == "assistant":
            calls = msg.tool_calls
            native = bool(calls) and native_calls and (len(calls) == 1 or caps.parallel_tool_calls)
            for c in calls:
                call_native[c.id] = native
            if native:
                out.append({"role": "assistant", "content": msg.content,
                            "tool_calls": [_native_call(c.id, c.name, c.arguments,
                                                        caps.object_arguments) for c in calls]})
                continue
            text = msg.content
            if calls:
                text = f"{text}\n{calls_as_text(msg)}" if text.strip() else calls_as_text(msg)
            if text.strip():
                out.append({"role": "assistant", "content": text})
        elif msg.role == "tool":
            native = call_native.get(msg.tool_call_id or "", False)
            as_tool = (not strict) and (caps.tool_role if native else caps.tool_role_after_text)
            if as_tool:
                out.append({"role": "tool", "tool_call_id": msg.tool_call_id, "name": msg.name,
                            "content": msg.content})
            else:
                user_text(result_as_text(msg))

    system_text = "\n\n".join(lead)
    if system_text and not caps.system_role:
        if out and out[0]["role"] == "user":
            out[0] = {"role": "user", "content": f"{system_text}\n\n{out[0]['content']}"}
        else:
            out.insert(0, {"role": "user", "content": system_text})
    if (strict or caps.must_start_with_user) and (not out or out[0]["role"] != "user"):
        out.insert(0, {"role": "user", "content": RESUMED})
    if strict:
        out = _merge_same_roles(out)
    if out and out[-1]["role"] == "assistant" and (strict or caps.must_end_with_user):
        out.append({"role": "user", "content": CONTINUE})
    if not out:
        out.append({"role": "user", "content": CONTINUE})
    if system_text and caps.system_role:
        out.insert(0, {"role": "system", "content": system_text})
    return out


def _merge_same_roles(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for e in entries:
        if merged and merged[-1]["role"] == e["role"] and e["role"] in ("user", "assistant"):
            prev = merged[-1]
            parts = [p for p in (prev["content"], e["content"]) if p]
            merged[-1] = {"role": e["role"], "content": "\n\n".join(parts)}
        else:
            merged.append(dict(e))
    return merged


def render_prompt(render: Callable[[list[dict[str, Any]]], str], messages: Sequence[Message],
                  caps: TemplateCaps, *, native_tools: bool = True) -> tuple[str, bool]:
    """Render through a template; if it still refuses, retry with the strictest form.

    Returns ``(prompt, used_fallback)``. The fallback exists for templates whose quirks the
    probe did not foresee; the property tests require it is never needed for the test set.
    """
    try:
        return render(render_thread(messages, caps, native_tools=native_tools)), False
    except Exception as exc:
        log.warning("chat template refused the repaired thread (%s); using the strictest form", exc)
    return render(render_thread(messages, TemplateCaps.strictest(), native_tools=False)), True
