"""Rich's Markdown as the conversation draws it: headings left-aligned, fences highlighted with
pygments once (plain while they still stream), one shared parser.

Imported the first time a reply is drawn (rich.markdown, markdown-it and pygments are not needed
for the app's first frame).
"""

from __future__ import annotations

from typing import Any, ClassVar

from markdown_it import MarkdownIt
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, Markdown
from rich.syntax import Syntax


class _Heading(Heading):
    LEVEL_ALIGN: ClassVar[dict[str, Any]] = {f"h{n}": "left" for n in range(1, 7)}


class _Code(CodeBlock):
    """A fence: highlighted with pygments, or plain while it is still streaming (it would be
    highlighted again on every batch; it is highlighted once when it closes)."""

    highlight = True
    background: str | None = None

    @classmethod
    def create(cls, markdown: Markdown, token: Any) -> CodeBlock:
        block = super().create(markdown, token)
        assert isinstance(block, _Code)
        block.highlight = getattr(markdown, "highlight", True)
        block.background = getattr(markdown, "code_background", None)
        return block

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip()
        yield Syntax(code, _lexer(self.lexer_name if self.highlight else "text"),
                     theme=self.theme, word_wrap=True, padding=(0, 1),
                     background_color=self.background)


_LEXERS: dict[str, Lexer | str] = {}


def _lexer(name: str) -> Lexer | str:
    """Pygments looks a lexer up by name on every call; a fence needs it once per language."""
    if name not in _LEXERS:
        try:
            _LEXERS[name] = get_lexer_by_name(name)
        except ClassNotFound:
            _LEXERS[name] = "text"
    return _LEXERS[name]


# One parser for every block: building one compiles its rules (rich builds one per Markdown).
_PARSER = MarkdownIt().enable("strikethrough").enable("table")


class ChatMarkdown(Markdown):
    elements: ClassVar[dict[str, Any]] = {**Markdown.elements, "heading_open": _Heading,
                                          "fence": _Code, "code_block": _Code}

    def __init__(self, markup: str, *, code_theme: str, code_background: str | None,
                 highlight: bool = True) -> None:
        # Markdown.__init__ with the shared parser.
        self.markup = markup
        self.parsed = _PARSER.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
        self.highlight = highlight
        self.code_background = code_background
