"""A tool call: name, short arguments, status, a preview of the result; expands on Enter/click."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from widgets.block_spec import BlockSpec

PREVIEW_LINES = 3
EXPANDED_LINES = 200  # a huge result stays readable; the session keeps every byte
SHOW_DURATION = 1.0
ICONS = {"running": "⚙", "ok": "✓", "error": "✗", "cancelled": "■"}
# Control characters (ESC sequences from a command's output or a model's arguments) are shown as
# visible escapes; sent as they are, they would drive the terminal.
_CONTROL: dict[int, str] = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))
                            if chr(c) not in "\n\t"}
_CONTROL[0x0D] = ""  # a carriage return (progress output) is dropped, as Rich does


def printable(text: str) -> str:
    return text.translate(_CONTROL)


def short_args(arguments: dict[str, Any] | None, width: int = 60) -> str:
    if not arguments:
        return ""
    parts = []
    for k, v in arguments.items():
        val = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        parts.append(f"{k}={val}")
    text = printable(" ".join(parts).replace("\n", "⏎"))
    return text if len(text) <= width else text[: width - 1] + "…"


class ToolCallBlock(Widget, can_focus=True):
    DEFAULT_CSS = """
    ToolCallBlock { height: auto; margin: 1 1 0 1; padding: 0 1; border-left: thick $accent 50%; }
    ToolCallBlock > .tool--header { color: $accent; }
    ToolCallBlock > .tool--result { color: $text-muted; }
    ToolCallBlock.-error { border-left: thick $error; }
    ToolCallBlock.-error > .tool--header { color: $error; }
    ToolCallBlock.-cancelled > .tool--header { color: $warning; }
    ToolCallBlock.-running > .tool--result { display: none; }
    ToolCallBlock:focus { background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_open", "Expand/collapse", show=False)]

    expanded = reactive(False)

    def __init__(self, name: str, arguments: dict[str, Any] | None = None, label: str = "",
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tool_name = name
        self.arguments = arguments or {}
        self.label = label
        self.status = "running"
        self.result = ""
        self.duration = 0.0
        self._header = Static(classes="tool--header")
        self._result = Static(classes="tool--result")
        self.add_class("-running")

    def compose(self) -> ComposeResult:
        yield self._header
        yield self._result

    def on_mount(self) -> None:
        self._render_all()

    def finish(self, result: str, *, is_error: bool, duration: float = 0.0) -> None:
        cancelled = is_error and result.strip().startswith("[cancelled")
        self.status = "cancelled" if cancelled else "error" if is_error else "ok"
        self.result, self.duration = result, duration
        self.remove_class("-running")
        self.add_class(f"-{self.status}")
        self._render_all()

    def _render_all(self) -> None:
        head = Text(f"{ICONS[self.status]} ")
        head.append(self.tool_name, "bold")
        args = short_args(self.arguments)
        if args:
            head.append(f" {args}")
        if self.status == "running":
            head.append("  running…", "italic")
        elif self.duration >= SHOW_DURATION:  # quick calls stay uncluttered (and snapshots stable)
            head.append(f"  {self.duration:.1f}s", "dim")
        self._header.update(head)
        lines = self.result.splitlines() or ([""] if self.status != "running" else [])
        limit = EXPANDED_LINES if self.expanded else PREVIEW_LINES
        shown = "\n".join(lines[:limit])
        more = len(lines) - limit
        if more > 0:
            hint = "" if self.expanded else " (Enter to expand)"
            shown += f"\n… {more} more line{'s' if more != 1 else ''}{hint}"
        self._result.update(Text(printable(shown)))

    def watch_expanded(self) -> None:
        self._render_all()

    def action_toggle_open(self) -> None:
        self.expanded = not self.expanded

    def on_click(self) -> None:
        self.action_toggle_open()

    def to_spec(self) -> BlockSpec:
        return BlockSpec("tool", self.result, name=self.tool_name, label=self.label,
                         arguments=self.arguments, status=self.status, duration=self.duration)

    @classmethod
    def from_spec(cls, spec: BlockSpec) -> ToolCallBlock:
        block = cls(spec.name, spec.arguments, spec.label)
        if spec.status and spec.status != "running":
            block.finish(spec.text, is_error=spec.status != "ok", duration=spec.duration)
        return block
