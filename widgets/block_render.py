"""Conversation blocks drawn into lines of cells (``Strip``s) at a given width.

The conversation view calls :func:`draw` for a block when it first shows it at a width and caches
the lines; nothing here keeps state except :class:`ChunkedLines`, which lets a streaming reply
re-draw only its last top-level Markdown block per batch (finished blocks of the reply are drawn
once, fences highlighted once, when they close).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.strip import Strip

from widgets.blocks import Block
from widgets.markdown_split import BlockBoundaries

PREVIEW_LINES = 3  # a tool result's lines shown before it is opened
EXPANDED_LINES = 200  # a huge result stays readable; the session keeps every byte
USER_LINES = 12  # a long paste shows its head
SHOW_DURATION = 1.0  # tool calls quicker than this do not show their time
TOOL_ICONS = {"running": "⚙", "ok": "✓", "error": "✗", "cancelled": "■"}
NOTICE_ICONS = {"error": "✗ ", "warning": "! ", "cancelled": "■ ", "info": "· ", "tool": "⚙ "}
BRANCH_ENDINGS = {"done": "", "over_budget": "stopped: over budget", "cancelled": "cancelled",
                  "failed": "failed"}
ENDED_NOTES = {"steered": "↪ stopped here to take your steer",
               "interrupted": "↻ interrupted: another provider answers below",
               "withdrawn": "↻ withdrawn: the answer check did not accept it (see below)"}
BAR = "▌"
# Control characters (ESC sequences from a command's output, a model's arguments or its text) are
# shown as visible escapes; sent as they are, they would drive the terminal.
_CONTROL: dict[int, str] = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))
                            if chr(c) not in "\n\t"}
_CONTROL[0x0D] = ""  # a carriage return (progress output) is dropped, as Rich does


def printable(text: str) -> str:
    return text.translate(_CONTROL)


@dataclass(frozen=True)
class Look:
    """Resolved styles for one theme (the view builds it from its component classes)."""

    base: Style
    muted: Style
    accent: Style
    user: Style  # the user block's fill
    user_bar: Style
    steer_bar: Style
    thinking: Style
    thinking_bar: Style
    tool: Style
    tool_bar: Style
    tool_error: Style
    tool_cancelled: Style
    cancelled_bar: Style
    reader: Style
    reader_bar: Style
    notice: dict[str, Style]
    code_theme: str
    code_background: str | None
    markdown: dict[str, Style]

    def console(self) -> Console:
        return Console(width=80, color_system="truecolor", force_terminal=True,
                       legacy_windows=False, theme=Theme(self.markdown, inherit=True),
                       markup=False, emoji=False, highlight=False)


Lines = list[list[Segment]]


def render(console: Console, renderable: RenderableType, width: int, style: Style) -> Lines:
    options = console.options.update(width=max(1, width), height=None)
    return console.render_lines(renderable, options, style=style, pad=True)


def trim(lines: Lines) -> Lines:
    """Without blank lines at either end (blocks and chunks put their own gaps between)."""
    def empty(line: list[Segment]) -> bool:
        return not "".join(seg.text for seg in line).strip()

    start, end = 0, len(lines)
    while start < end and empty(lines[start]):
        start += 1
    while end > start and empty(lines[end - 1]):
        end -= 1
    return lines[start:end]


def frame(lines: Lines, width: int, inner: int, look: Look, *, left: list[Segment],
          fill: Style | None = None) -> list[Strip]:
    """Lines of ``inner`` cells, with ``left`` in front and the rest of ``width`` filled."""
    used = sum(len(s.text) for s in left) + inner
    right = [Segment(" " * (width - used), fill or look.base)] if width > used else []
    return [Strip([*left, *line, *right], width) for line in lines]


_BLANKS: dict[tuple[int, Style], Strip] = {}


def blank(width: int, look: Look) -> Strip:
    # One object per width and style: a Strip is costly to make (it carries seven caches).
    key = (width, look.base)
    if key not in _BLANKS:
        if len(_BLANKS) > 64:
            _BLANKS.clear()
        _BLANKS[key] = Strip([Segment(" " * width, look.base)], width)
    return _BLANKS[key]


# --- streaming-friendly Markdown ----------------------------------------------------------------


class ChunkedLines:
    """A growing text cut into top-level blocks; each finished block is drawn once per width.

    ``draw_chunk(text, width, final)`` draws one block; ``final`` is False for the last block while
    the text still streams (an open fence is then drawn plain).
    """

    def __init__(self) -> None:
        self._reset(None)

    def _reset(self, key: object) -> None:
        self.key = key
        self.text = ""
        self.bounds = BlockBoundaries()
        self.cuts = [0]
        self.done: list[list[Strip]] = []

    def lines(self, text: str, key: object, streaming: bool,
              draw_chunk: Callable[[str, bool], list[Strip]], gap: Strip) -> list[Strip]:
        if key != self.key or not text.startswith(self.text):
            self._reset(key)
        if len(text) > len(self.text):
            base = len(self.text)
            self.cuts += [base + c for c in self.bounds.feed(text[base:])]
            self.text = text
        cuts = self.cuts
        while len(self.done) < len(cuts) - 1:
            i = len(self.done)
            self.done.append(draw_chunk(text[cuts[i]:cuts[i + 1]], True))
        tail = draw_chunk(text[cuts[-1]:], not (streaming and self.bounds.in_fence))
        out: list[Strip] = []
        for part in [*self.done, tail]:
            if part:
                if out:
                    out.append(gap)
                out.extend(part)
        return out


# --- the blocks -----------------------------------------------------------------------------------


@dataclass
class Canvas:
    """What drawing needs besides the block: the look, its console and the chunk caches."""

    look: Look
    console: Console
    chunks: dict[int, ChunkedLines]
    gen: int = 0  # bumped with every new look: cached chunks of an older one are stale


def draw(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    width = max(width, 12)
    kind = block.kind
    if kind in ("user", "steer"):
        return _user(block, width, canvas)
    if kind == "assistant":
        return _assistant(block, width, canvas)
    if kind == "thinking":
        return _thinking(block, width, canvas)
    if kind == "tool":
        return _tool(block, width, canvas)
    if kind == "delegate":
        return _reader(block, width, canvas)
    if kind == "branch":
        return _branch(block, width, canvas)
    return _notice(block, width, canvas)


def content_column(block: Block) -> int:
    """Where the text of a block starts (selection leaves the bars and margins out)."""
    return {"user": 3, "steer": 5, "delegate": 5, "branch": 3}.get(
        block.kind, 3 if block.kind in ("thinking", "tool") else 2)


def shown_user_text(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= USER_LINES and len(text) <= 4000:
        return text
    head = "\n".join(lines[:USER_LINES])[:4000]
    return f"{head}\n… ({len(lines)} lines, {len(text):,} characters in all)"


def _user(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    look = canvas.look
    steer = block.kind == "steer"
    indent = 3 if steer else 1
    inner = width - indent - 4
    body = Text(printable(shown_user_text(block.text)))
    if steer:
        body = Text.assemble(("↪ steer  ", "bold"), body)
    lines = render(canvas.console, body, inner, look.user)
    bar = look.steer_bar if steer else look.user_bar
    left = [Segment(" " * indent, look.base), Segment(BAR, bar), Segment(" ", look.user)]
    strips = frame(lines, width - 1, inner, look, left=left, fill=look.user)
    strips = [Strip([*s, Segment(" ", look.base)], width) for s in strips]
    return strips if steer else [blank(width, look), *strips]


def _assistant(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    look = canvas.look
    inner = width - 4
    bar = {"cancelled": look.cancelled_bar, "steered": look.steer_bar,
           "interrupted": look.cancelled_bar, "withdrawn": look.cancelled_bar}.get(block.ended)
    left = [Segment(" ", look.base), Segment(BAR if bar else " ", bar or look.base)]

    def draw_chunk(text: str, final: bool) -> list[Strip]:
        if not text.strip():
            return []
        from widgets.markdown_render import ChatMarkdown  # rich.markdown and pygments: on use

        md = ChatMarkdown(printable(text), code_theme=look.code_theme, code_background=look.code_background,
                          highlight=final)
        return frame(trim(render(canvas.console, md, inner, look.base)), width, inner, look,
                     left=left)

    chunks = canvas.chunks.setdefault(block.uid, ChunkedLines())
    gap = frame([[Segment(" " * inner, look.base)]], width, inner, look, left=left)[0]
    body = chunks.lines(block.text, (width, canvas.gen, block.ended), block.streaming, draw_chunk,
                        gap)
    if not block.streaming:
        del canvas.chunks[block.uid]  # finished: the view caches the whole block from now on
    note = ENDED_NOTES.get(block.ended)
    if note:
        body = [*body, *frame(render(canvas.console, Text(note, look.muted), inner, look.base),
                              width, inner, look, left=left)]
    return [blank(width, look), *body] if body else []


def _thinking(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    look = canvas.look
    inner = width - 5
    shown = block.open or block.streaming
    words = len(block.text.split())
    verb = "Thinking…" if block.streaming else "Thought"
    title = Text(f"{'▾' if shown else '▸'} ∴ {verb} ({words} words)", look.thinking)
    left = [Segment(" ", look.base), Segment(BAR, look.thinking_bar), Segment(" ", look.base)]
    lines = render(canvas.console, title, inner, look.base)
    if shown and block.text.strip():
        def draw_chunk(text: str, final: bool) -> list[Strip]:
            if not text.strip():
                return []
            body = Text(printable(text.strip()), look.thinking)
            return frame(render(canvas.console, body, inner, look.base), width, inner, look,
                         left=left)

        chunks = canvas.chunks.setdefault(block.uid, ChunkedLines())
        gap = frame([[Segment(" " * inner, look.base)]], width, inner, look, left=left)[0]
        body = chunks.lines(block.text, (width, canvas.gen), block.streaming, draw_chunk, gap)
        if not block.streaming:
            canvas.chunks.pop(block.uid, None)
        return [blank(width, look), *frame(lines, width, inner, look, left=left), *body]
    return [blank(width, look), *frame(lines, width, inner, look, left=left)]


def short_args(arguments: dict[str, Any] | None, width: int = 60) -> str:
    if not arguments:
        return ""
    parts = []
    for k, v in arguments.items():
        val = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        parts.append(f"{k}={val}")
    text = printable(" ".join(parts).replace("\n", "⏎"))
    return text if len(text) <= width else text[: width - 1] + "…"


def _tool(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    look = canvas.look
    inner = width - 5
    status = block.status or "running"
    head_style = {"error": look.tool_error, "cancelled": look.tool_cancelled}.get(status, look.tool)
    head = Text(f"{TOOL_ICONS.get(status, '⚙')} ", head_style)
    head.append(printable(block.name), head_style + Style(bold=True))
    args = short_args(block.arguments, max(20, inner - len(block.name) - 16))
    if args:
        head.append(f" {args}", head_style)
    if status == "running":
        head.append("  running…", head_style + Style(italic=True))
    elif block.duration >= SHOW_DURATION:  # quick calls stay uncluttered (and snapshots stable)
        head.append(f"  {block.duration:.1f}s", look.muted)
    if block.badge:
        head.append(f"  [{block.badge}]", look.accent)
    body = Text(no_wrap=False)
    if status != "running":
        result = printable(block.text).splitlines() or [""]
        limit = EXPANDED_LINES if block.open else PREVIEW_LINES
        body.append("\n".join(result[:limit]), look.muted)
        more = len(result) - limit
        if more > 0:
            hint = "" if block.open else " (Enter or click to open)"
            body.append(f"\n… {more} more line{'s' if more != 1 else ''}{hint}", look.muted)
    bar = look.tool_error if status == "error" else look.tool_bar
    left = [Segment(" ", look.base), Segment(BAR, bar), Segment(" ", look.base)]
    lines = render(canvas.console, head, inner, look.base)
    if status != "running":
        lines += render(canvas.console, body, inner, look.base)
    return [blank(width, look), *frame(lines, width, inner, look, left=left)]


def _reader(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    """A reader's (RLM delegate's) steps under the tool call it reads for: one line each, shown
    while it works, folded into one line when it is done (Enter or a click opens them)."""
    look = canvas.look
    inner = width - 7
    shown = block.open or block.streaming
    steps = printable(block.text).splitlines()
    state = block.status if not block.streaming else f"working… {len(steps)} step(s)"
    title = Text(f"{'▾' if shown else '▸'} ⟳ Reader: {printable(block.label)} · {state}",
                 look.reader)
    left = [Segment("   ", look.base), Segment(BAR, look.reader_bar), Segment(" ", look.base)]
    lines = render(canvas.console, title, inner, look.base)
    if shown and steps:
        lines += render(canvas.console, Text("\n".join(steps), look.muted), inner, look.base)
    return frame(lines, width, inner, look, left=left)


def _branch(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    """A branch's answer: the question it was asked, how it ended when not done, what it found."""
    look = canvas.look
    inner = width - 5
    ending = BRANCH_ENDINGS.get(block.status, block.status)
    title = Text.assemble(("⑂ branch result", look.accent + Style(bold=True)),
                          (f"  {printable(block.label)}", look.muted),
                          (f"  ({ending})" if ending else "", look.accent))
    bar = look.cancelled_bar if ending else look.reader_bar
    left = [Segment(" ", look.base), Segment(BAR, bar), Segment(" ", look.base)]
    body = Text(printable(block.text.strip()) or "(no text)", look.base)
    lines = render(canvas.console, title, inner, look.base)
    lines += render(canvas.console, body, inner, look.base)
    return [blank(width, look), *frame(lines, width, inner, look, left=left)]


def _notice(block: Block, width: int, canvas: Canvas) -> list[Strip]:
    look = canvas.look
    inner = width - 4
    style = look.notice.get(block.level, look.muted)
    text = Text(NOTICE_ICONS.get(block.level, "") + printable(block.text), style)
    lines = render(canvas.console, text, inner, look.base)
    return frame(lines, width, inner, look, left=[Segment("  ", look.base)])


def estimate(block: Block, width: int, show_thinking: bool) -> int:
    """A height for a block never drawn at this width: close enough for the scrollbar."""
    width = max(width, 12)
    kind = block.kind
    if kind == "thinking":
        if not show_thinking:
            return 0
        return 2 + (_wrapped(block.text, width - 5) if block.open or block.streaming else 0)
    if kind == "tool":
        if not block.status or block.status == "running":
            return 2
        n = len(block.text.splitlines()) or 1
        limit = EXPANDED_LINES if block.open else PREVIEW_LINES
        return 2 + min(n, limit) + (1 if n > limit else 0)
    if kind in ("user", "steer"):
        return (0 if kind == "steer" else 1) + _wrapped(shown_user_text(block.text), width - 5)
    if kind == "delegate":
        return 1 + (_wrapped(block.text, width - 7) if block.open or block.streaming else 0)
    if kind == "branch":
        return 1 + _wrapped(block.label, width - 5) + _wrapped(block.text, width - 5)
    if kind == "assistant":
        return 1 + _wrapped(block.text, width - 4) if block.text.strip() else 0
    return _wrapped(block.text, width - 4)


def _wrapped(text: str, width: int) -> int:
    width = max(width, 1)
    return sum(max(1, -(-len(line) // width)) for line in text.strip().split("\n"))
