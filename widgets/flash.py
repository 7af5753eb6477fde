"""A one-line hint above the prompt ("Esc again to cancel"); it hides itself after a while."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static


class Flash(Static):
    DEFAULT_CSS = """
    Flash { height: 1; padding: 0 2; display: none; color: $text; background: $accent 30%; }
    Flash.-shown { display: block; }
    Flash.-warning { background: $warning 35%; }
    Flash.-error { background: $error 35%; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._timer: Timer | None = None
        self.message = ""

    def show(self, text: str, kind: str = "info", seconds: float = 2.0) -> None:
        self.message = text
        self.update(Text(text))
        for k in ("info", "warning", "error"):
            self.set_class(k == kind, f"-{k}")
        self.add_class("-shown")
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(seconds, self.hide)

    def hide(self) -> None:
        self.message = ""
        self.remove_class("-shown")
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
