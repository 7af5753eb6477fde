"""The model-free compaction tiers and the citations that keep compacted text recoverable.

- :func:`stub_for` masks an old tool output to one line that names where the full text lives.
- :func:`emergency_truncate` deterministically fits a request into a token budget: it keeps the
  system prompt, pinned messages, the latest summary and the newest turns, cuts oversized outputs
  to head and tail, and says what it left out. It always returns something that fits.
- :func:`expand` turns a citation (``[log SID#57]``, ``[log SID#3-188]``, ``[history #12]``) back
  into the original messages, from the event log or from the in-memory history.

A view is a list of :class:`Item`: a message plus the history index it stands for (``None`` for
messages the harness adds per request: the system prompt, nudges, a status block, a summary).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.agent.messages import Message
from app.core.context.tokens import PER_MESSAGE_CHARS, message_chars
from app.core.store.event_log import read_span

REF_RE = re.compile(
    r"\[(?:log (?P<sid>[^#\]\s]+)#|history #)(?P<a>\d+)(?:-(?P<b>\d+))?\]")


@dataclass(frozen=True)
class Source:
    """Where one history message is kept in full: a log record, or only its history index."""

    index: int
    log_id: str | None = None
    seq: int | None = None

    def ref(self) -> str:
        if self.log_id and self.seq:
            return f"[log {self.log_id}#{self.seq}]"
        return f"[history #{self.index}]"


def span_ref(sources: Sequence[Source]) -> str:
    """One citation covering ``sources`` (a seq range when all are logged, else index range)."""
    if not sources:
        return ""
    logged = [s for s in sources if s.log_id and s.seq]
    if len(logged) == len(sources):
        a, b = logged[0].seq, logged[-1].seq
        return f"[log {logged[0].log_id}#{a}]" if a == b else f"[log {logged[0].log_id}#{a}-{b}]"
    a, b = sources[0].index, sources[-1].index
    return f"[history #{a}]" if a == b else f"[history #{a}-{b}]"


@dataclass(frozen=True)
class Item:
    message: Message
    index: int | None = None  # history index, None for per-request messages


def _first_line(text: str, width: int = 72) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def stub_for(message: Message, source: Source) -> Message:
    """A tool output masked to one line that cites its full text (no model call)."""
    text = message.content
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    stub = (f"[output of {message.name or 'tool'} elided to save context: {len(text):,} chars, "
            f"{lines} lines, began {_first_line(text)!r}. Full text: {source.ref()}; "
            f"use the expand tool with that reference if you need it.]")
    return replace(message, content=stub)


def head_tail(text: str, max_chars: int, ref: str) -> str:
    """``text`` cut to about ``max_chars``: its head and tail around a marker citing the whole."""
    if len(text) <= max_chars:
        return text
    marker = f"\n[… {len(text):,} chars in all, middle cut; full text: {ref} …]\n"
    room = max(0, max_chars - len(marker))
    head = room * 2 // 3
    tail = room - head
    return text[:head] + marker + (text[-tail:] if tail else "")


@dataclass(frozen=True)
class Truncation:
    items: list[Item]
    dropped: int  # history messages left out
    cut: int  # messages cut to head and tail


def _units(items: list[Item]) -> list[list[Item]]:
    """Group an assistant message with the tool results that answer it, so pairs stay whole."""
    units: list[list[Item]] = []
    for it in items:
        if it.message.role == "tool" and units and units[-1][0].message.role == "assistant":
            units[-1].append(it)
        else:
            units.append([it])
    return units


def emergency_truncate(items: list[Item], *, budget: int, chars_per_token: float,
                       sources: dict[int, Source]) -> Truncation:
    """Fit ``items`` (system prompt first) into ``budget`` tokens, deterministically.

    Order of sacrifice: oversized messages are cut to head and tail; whole older turns are left
    out (newest kept first); if the newest turns alone are still too big they are cut harder; as a
    last resort pinned messages and the summary go too. The system prompt and the newest message
    always stay (cut if need be), and a notice says what was left out and where it is.
    """
    cpt = max(chars_per_token, 0.5)
    budget_chars = int(budget * cpt)

    def size(seq: Sequence[Item]) -> int:
        return sum(message_chars(it.message) for it in seq)

    def ref_of(it: Item) -> str:
        if it.index is not None and it.index in sources:
            return sources[it.index].ref()
        return "[not logged]"

    def cut(it: Item, limit: int, floor: int = 120) -> Item:
        limit = max(limit - PER_MESSAGE_CHARS, floor)
        if len(it.message.content) <= limit:
            return it
        return Item(it.message.with_content(head_tail(it.message.content, limit, ref_of(it))),
                    it.index)

    system, rest = items[0], items[1:]
    notice_room = max(200, budget_chars // 8)  # the stubs of what is left out
    n_cut = 0
    # No single message may take more than a quarter of the room.
    capped: list[Item] = []
    for it in rest:
        new = cut(it, budget_chars // 4)
        n_cut += new is not it
        capped.append(new)
    # The newest message is never set aside with the pinned ones: those go as a last resort, and
    # the newest must stay.
    always = [(it.message.pinned or it.message.role == "summary") and i < len(capped) - 1
              for i, it in enumerate(capped)]
    keep_always = [it for it, keep in zip(capped, always, strict=True) if keep]
    units = _units([it for it, keep in zip(capped, always, strict=True) if not keep])
    room = budget_chars - size([system]) - size(keep_always) - notice_room
    kept_units: list[list[Item]] = []
    for unit in reversed(units):
        if size(unit) <= room or not kept_units:
            kept_units.append(unit)
            room -= size(unit)
        else:
            break
    kept_units.reverse()
    kept = [it for unit in kept_units for it in unit]
    dropped = [it for unit in units[: len(units) - len(kept_units)] for it in unit]

    shrunk: dict[int, Item] = {}  # id(item) -> its cut version, from the loop below
    position = {id(it): i for i, it in enumerate(capped)}

    def assemble() -> list[Item]:
        # Kept messages stay in their original order; pinned ones older than the kept tail
        # come first, then the notice about what was left out.
        first = min((position[id(it)] for it in kept), default=len(capped))
        older = [it for it in keep_always if position[id(it)] < first]
        tail = sorted([*kept, *(it for it in keep_always if position[id(it)] >= first)],
                      key=lambda it: position[id(it)])
        notice: list[Item] = []
        if dropped:
            ordered = sorted(dropped, key=lambda it: position[id(it)])
            notice = [Item(Message(role="notice", content=left_out_notice(
                ordered, sources, notice_room)))]
        return [shrunk.get(id(it), it) for it in (system, *older, *notice, *tail)]

    out = assemble()
    floor = 120
    # Still over (a huge last turn, a huge system prompt, a tiny window): cut the biggest message,
    # then leave out more of the oldest kept messages, then cut below the usual floor.
    while size(out) > budget_chars:
        originals = [system, *keep_always, *kept]
        versions = [shrunk.get(id(it), it) for it in originals]
        biggest = max(range(len(versions)), key=lambda i: len(versions[i].message.content))
        current = len(versions[biggest].message.content)
        if current > floor:
            target = max(floor, current - (size(out) - budget_chars) - PER_MESSAGE_CHARS)
            new = cut(versions[biggest], min(target, current * 3 // 4), floor)
            if len(new.message.content) >= current and floor == 0:
                # Near nothing the head-and-tail marker is as long as what it replaces: the last
                # resort is the message without its text (its cited place in the log remains).
                new = Item(versions[biggest].message.with_content(""), versions[biggest].index)
            # Only a cut that shortens counts as progress; anything else would loop for ever.
            if new is not versions[biggest] and len(new.message.content) < current:
                shrunk[id(originals[biggest])] = new
                n_cut += 1
                out = assemble()
                continue
        if len(kept) > 1:
            dropped.append(kept.pop(0))
        elif keep_always:
            dropped.append(keep_always.pop(0))
        elif floor > 0:
            floor //= 3
        else:
            break
        out = assemble()
    return Truncation(out, len(dropped), n_cut)


def _stub_line(it: Item, sources: dict[int, Source]) -> str:
    m = it.message
    ref = sources[it.index].ref() if it.index is not None and it.index in sources else \
        "[not logged]"
    if m.role == "tool":
        what = f"output of {m.name or 'tool'} ({len(m.content):,} chars)"
    elif m.tool_calls:
        what = "called " + ", ".join(c.name for c in m.tool_calls)
    else:
        what = f"{m.role}: {_first_line(m.content, 56)!r}"
    return f"- {ref} {what}"


def left_out_notice(dropped: Sequence[Item], sources: dict[int, Source], room: int) -> str:
    """What truncation left out, as recallable stubs: one line per message citing its full text,
    newest kept first when they do not all fit; the older rest as one cited span."""
    logged = [sources[it.index] for it in dropped if it.index is not None and it.index in sources]
    where = span_ref(logged) if logged else "[not logged]"
    head = (f"{len(dropped)} earlier messages were left out to fit the context window; the "
            f"recall tool restores any of them by its reference (all: {where}):")
    lines: list[str] = []
    used = len(head)
    for it in reversed(dropped):
        line = _stub_line(it, sources)
        if used + len(line) + 1 > room - 60:
            break
        lines.append(line)
        used += len(line) + 1
    lines.reverse()
    rest = len(dropped) - len(lines)
    if rest:
        older = [sources[it.index] for it in dropped[:rest]
                 if it.index is not None and it.index in sources]
        lines.insert(0, f"- {rest} older: {span_ref(older) if older else '[not logged]'}")
    return "\n".join([head, *lines])


def expand(ref: str, *, history: Sequence[Message], log_path: Path | None,
           worker: str | None = None) -> list[Message]:
    """The original messages a citation stands for (empty when it names nothing known)."""
    m = REF_RE.search(ref)
    if m is None:
        return []
    a = int(m.group("a"))
    b = int(m.group("b") or a)
    if m.group("sid") is None:
        return list(history[a: b + 1])
    if log_path is None:
        return []
    out: list[Message] = []
    for rec in read_span(log_path, a, b):
        if rec.get("type") != "MessageAdded":
            continue
        # A single record is cited precisely; a span keeps only the citing session's messages.
        if a != b and rec.get("worker") != worker:
            continue
        msg = rec.get("message")
        if isinstance(msg, dict):
            try:
                out.append(Message.from_dict(msg))
            except ValueError:
                continue
    return out
