"""One segment of an assistant reply: a Markdown document fed through ``MarkdownStream``.

A long reply is a chain of these (see :mod:`widgets.reply_stream`), so each append re-parses a
small document. Code fences are highlighted with pygments by Textual's Markdown.
"""

from __future__ import annotations

from textual.widgets import Markdown

from widgets.block_spec import BlockSpec


class AssistantMessage(Markdown):
    DEFAULT_CSS = """
    AssistantMessage { margin: 0 1 0 1; padding: 0 1; }
    AssistantMessage.-first { margin-top: 1; }
    AssistantMessage.-cancelled { border-left: thick $warning; }
    """

    def to_spec(self) -> BlockSpec:
        return BlockSpec("assistant", self.source, cancelled=self.has_class("-cancelled"))
