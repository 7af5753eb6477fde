"""Where a streamed Markdown reply may be cut into separately drawn pieces without changing its look.

The conversation view draws a reply block by block (:class:`widgets.block_render.ChunkedLines`):
finished top-level blocks once, only the last one again as text arrives. The cuts are top-level
block boundaries: right after a blank line, outside a code fence, where the next line starts in
column 0 (an indented line may continue a list item or be an indented code block).
"""

from __future__ import annotations

import re

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class BlockBoundaries:
    """Fed the reply piece by piece; reports offsets (into each piece) where a new block starts."""

    def __init__(self) -> None:
        self._fence: str | None = None  # the open fence's marker, e.g. "```" or "~~~~"
        self._line = ""  # the current, unfinished line
        self._after_blank = False  # the previous finished line was blank (outside a fence)

    @property
    def in_fence(self) -> bool:
        return self._fence is not None

    def feed(self, text: str) -> list[int]:
        found: list[int] = []
        pos = 0
        n = len(text)
        while pos < n:
            nl = text.find("\n", pos)
            end = n if nl < 0 else nl
            if (not self._line and end > pos and self._after_blank and self._fence is None
                    and not text[pos].isspace()):
                found.append(pos)
                self._after_blank = False
            self._line += text[pos:end]
            if nl < 0:
                break
            self._end_line(self._line)
            self._line = ""
            pos = nl + 1
        return found

    def _end_line(self, line: str) -> None:
        stripped = line.strip()
        if self._fence is not None:
            marker = self._fence
            if stripped.startswith(marker) and set(stripped) == {marker[0]}:
                self._fence = None
            self._after_blank = False
            return
        m = _FENCE_OPEN.match(line)
        if m:
            self._fence = m.group(1)
            self._after_blank = False
            return
        self._after_blank = stripped == ""
