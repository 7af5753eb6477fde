"""An assistant reply streamed as Markdown, written in batches on a short timer."""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

FLUSH_SECONDS = 0.05


class AssistantMessage(Markdown):
    DEFAULT_CSS = """
    AssistantMessage { margin: 0 1 1 1; padding: 0 1; }
    AssistantMessage.-cancelled { border-left: thick $warning; }
    """

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(text, **kwargs)  # type: ignore[arg-type]
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None
        self.source_text = text

    def on_mount(self) -> None:
        self.set_interval(FLUSH_SECONDS, self._flush)

    def append_text(self, text: str) -> None:
        self._pending.append(text)
        self.source_text += text

    async def _flush(self) -> None:
        if not self._pending:
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        chunk = "".join(self._pending)
        self._pending.clear()
        await self._stream.write(chunk)

    async def finish(self, *, cancelled: bool = False) -> None:
        await self._flush()
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if cancelled:
            self.add_class("-cancelled")
