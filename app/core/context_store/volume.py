"""An ingested volume opened read-only through ``mmap``: O(1) line slicing and grep over the mapping.

Nothing is read into memory up front: the text and the line-offset index are both mapped, so opening
a 10M-token volume costs two ``mmap`` calls and a small JSON file table.
"""

from __future__ import annotations

import mmap
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.core.context_store import layout
from app.core.context_store.errors import VolumeError
from app.core.context_store.layout import FileEntry, Meta
from app.core.tools.safe_regex import Regex, RegexError, compile_bytes

MAX_PATTERN = 1000


@dataclass(frozen=True)
class GrepHit:
    line: int       # 1-based volume line
    path: str
    file_line: int  # 1-based line within the file
    text: str


@dataclass(frozen=True)
class GrepResult:
    hits: list[GrepHit]
    total: int          # matching lines counted (at most count_limit)
    truncated: bool     # more lines matched than were returned
    count_capped: bool  # counting stopped at count_limit


class Volume:
    """One volume's text, line index and file table; cheap to open, safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.meta: Meta = layout.read_meta(directory)
        self.files: list[FileEntry] = layout.read_files(directory)
        self._file_starts = [f.line0 for f in self.files]
        self._by_path = {f.path: f for f in self.files}
        try:
            self._fh = (directory / layout.TEXT).open("rb")
            size = (directory / layout.TEXT).stat().st_size
            self.text: mmap.mmap | bytes = (
                mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b"")
            self.offsets: npt.NDArray[np.uint64] = (
                np.memmap(directory / layout.LINES, dtype="<u8", mode="r"))
        except (OSError, ValueError) as exc:
            raise VolumeError(f"volume {directory.name!r} cannot be opened: {exc}; "
                              "ingest it again with --replace") from exc
        if len(self.offsets) != self.meta.lines + 1 or int(self.offsets[-1]) != size:
            raise VolumeError(f"volume {directory.name!r} has a line index that does not match "
                              "its text; ingest it again with --replace")

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def n_lines(self) -> int:
        return self.meta.lines

    def close(self) -> None:
        if isinstance(self.text, mmap.mmap):
            self.text.close()
        self._fh.close()
        # numpy releases a memmap with its last reference
        self.offsets = np.zeros(1, dtype="<u8")

    # --- lines -------------------------------------------------------------------------------

    def line_bytes(self, start: int, end: int) -> bytes:
        """Raw bytes of volume lines ``start..end`` (0-based, end exclusive): two index reads."""
        start = max(0, start)
        end = min(self.n_lines, end)
        if end <= start:
            return b""
        return bytes(self.text[int(self.offsets[start]):int(self.offsets[end])])

    def lines(self, start: int, end: int) -> list[str]:
        data = self.line_bytes(start, end)
        return data.decode("utf-8", errors="replace").split("\n")[:-1] if data else []

    def line_of_offset(self, offset: int) -> int:
        """The 0-based line holding byte ``offset``."""
        return int(np.searchsorted(self.offsets, offset, side="right")) - 1

    def file_at(self, line: int) -> FileEntry:
        """The file holding 0-based volume line ``line``."""
        i = bisect_right(self._file_starts, line) - 1
        # Empty files share a start line with the next file; step forward to the one that has it.
        while i + 1 < len(self.files) and self.files[i].n_lines == 0 and \
                self.files[i + 1].line0 <= line:
            i += 1
        return self.files[max(i, 0)]

    def file(self, path: str) -> FileEntry | None:
        return self._by_path.get(path)

    # --- grep --------------------------------------------------------------------------------

    def grep(self, pattern: str, *, regex: bool = False, ignore_case: bool = False,
             max_lines: int = 50, count_limit: int = 10_000) -> GrepResult:
        """Lines matching ``pattern``, scanning the mapping (nothing is copied but the hits)."""
        if not pattern:
            raise VolumeError("pattern is empty")
        if len(pattern) > MAX_PATTERN:
            raise VolumeError(f"pattern is longer than {MAX_PATTERN} characters")
        raw = pattern.encode("utf-8")
        matcher: Regex[bytes] | None = None
        if regex or ignore_case:
            # RE2: linear time whatever the pattern, so no pattern can stall the search.
            try:
                matcher = compile_bytes(raw if regex else re.escape(raw), multiline=True,
                                        ignore_case=ignore_case)
            except RegexError as exc:
                raise VolumeError(str(exc)) from exc
        hits: list[GrepHit] = []
        total = 0
        pos = 0
        size = len(self.text)
        while pos < size and total < count_limit:
            if matcher is None:
                found = self.text.find(raw, pos)
                if found < 0:
                    break
            else:
                m = matcher.search(self.text, pos)
                if m is None:
                    break
                found = m.start()
            if found >= size:  # an empty match at the very end (\Z, $): no line there
                break
            line = self.line_of_offset(found)
            total += 1
            if len(hits) < max_lines:
                hits.append(self._hit(line))
            pos = int(self.offsets[line + 1])  # one hit per line: go on from the next line
        return GrepResult(hits, total, total > len(hits), total >= count_limit)

    def _hit(self, line: int) -> GrepHit:
        f = self.file_at(line)
        text = self.lines(line, line + 1)
        return GrepHit(line + 1, f.path, line - f.line0 + 1, text[0] if text else "")


def open_volume(directory: Path) -> Volume:
    if not (directory / layout.META).exists():
        raise VolumeError(f"volume {directory.name!r} not found")
    return Volume(directory)
