"""Edit one SKILL.md in the app: a text area over the file, Ctrl+S saves (only a file the skill
loader accepts), Esc leaves without saving."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from app.core.settings.paths import atomic_write_text
from app.core.skills.format import SkillError, parse_skill


class SkillEditor(ModalScreen[bool]):
    """Dismisses with True when the file was saved."""

    AUTO_FOCUS = "#skill-text"
    DEFAULT_CSS = """
    SkillEditor { align: center middle; }
    SkillEditor > #skill-box { width: 92%; height: 90%; border: round $primary;
                               background: $surface; }
    SkillEditor #skill-title { padding: 0 1; text-style: bold; }
    SkillEditor #skill-text { height: 1fr; }
    SkillEditor #skill-error { height: auto; padding: 0 1; color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "leave", "Cancel"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        from textual.containers import Vertical

        with Vertical(id="skill-box"):
            yield Static(f"{self.path}  (Ctrl+S save, Esc cancel)", id="skill-title",
                         markup=False)
            yield TextArea(self.path.read_text(encoding="utf-8"), id="skill-text",
                           soft_wrap=True, show_line_numbers=True)
            yield Static("", id="skill-error", markup=False)
        yield Footer(show_command_palette=False)

    def action_save(self) -> None:
        text = self.query_one("#skill-text", TextArea).text
        try:
            parse_skill(text, self.path)
            from app.core.learning.recipes import from_skill

            from_skill(parse_skill(text, self.path))  # a learned skill's recipe must still read
        except SkillError as exc:
            self.query_one("#skill-error", Static).update(f"Not saved: {exc}")
            return
        atomic_write_text(self.path, text)
        self.dismiss(True)

    def action_leave(self) -> None:
        self.dismiss(False)
