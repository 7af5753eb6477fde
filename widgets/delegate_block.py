"""The reader's (RLM delegate's) steps under a tool call: one line each, folded when it is done."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from widgets.block_spec import BlockSpec


class DelegateBlock(Widget, can_focus=True):
    DEFAULT_CSS = """
    DelegateBlock { height: auto; margin: 0 1 0 3; padding: 0 1; border-left: thick $secondary 60%; }
    DelegateBlock > .delegate--title { color: $secondary; }
    DelegateBlock > .delegate--body { color: $text-muted; }
    DelegateBlock.-collapsed > .delegate--body { display: none; }
    DelegateBlock:focus { background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "toggle_open", "Expand/collapse", show=False)]

    collapsed = reactive(False)

    def __init__(self, label: str, *, steps: list[str] | None = None, summary: str = "",
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.label = label
        self.steps: list[str] = list(steps or [])
        self.summary = summary  # set when done: "3 rounds, 4.2s, confident (0.90)"
        self._title = Static(classes="delegate--title")
        self._body = Static(classes="delegate--body")
        if summary:
            self.set_reactive(DelegateBlock.collapsed, True)

    @property
    def finished(self) -> bool:
        return bool(self.summary)

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._body

    def on_mount(self) -> None:
        self.set_class(self.collapsed, "-collapsed")
        self._render_all()

    def add_step(self, text: str, depth: int = 1) -> None:
        self.steps.append(("  " * (depth - 1)) + text)
        self._render_all()

    def finish(self, summary: str, finding: str = "") -> None:
        """Done: say how it ended and fold the steps away (Enter or a click opens them)."""
        self.summary = summary or "done"
        if finding:
            self.steps.append(f"→ {finding}")
        self.collapsed = True
        self._render_all()

    def _render_all(self) -> None:
        mark = "▸" if self.collapsed else "▾"
        state = self.summary or f"working… {len(self.steps)} step(s)"
        self._title.update(Text(f"{mark} ⟳ Reader: {self.label} · {state}"))
        if not self.collapsed:
            self._body.update(Text("\n".join(self.steps)))

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        self._render_all()

    def action_toggle_open(self) -> None:
        self.collapsed = not self.collapsed

    def on_click(self) -> None:
        self.action_toggle_open()

    def to_spec(self) -> BlockSpec:
        return BlockSpec("delegate", "\n".join(self.steps), label=self.label,
                         status=self.summary or "running")

    @classmethod
    def from_spec(cls, spec: BlockSpec) -> DelegateBlock:
        status = spec.status if spec.status != "running" else ""
        return cls(spec.label, steps=spec.text.splitlines(), summary=status)
