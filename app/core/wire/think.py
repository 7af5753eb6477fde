"""Split ``<think>…</think>`` reasoning out of a text stream, tags split across deltas included."""

from __future__ import annotations

OPEN_TAGS = ("<think>", "<thinking>")
CLOSE_TAGS = ("</think>", "</thinking>")


def _partial_suffix(buf: str, tags: tuple[str, ...]) -> int:
    """Length of the longest suffix of ``buf`` that starts one of ``tags``."""
    best = 0
    for tag in tags:
        for n in range(min(len(tag) - 1, len(buf)), 0, -1):
            if tag.startswith(buf[-n:]):
                best = max(best, n)
                break
    return best


class ThinkSplitter:
    """Feed text deltas; get back ``(visible, reasoning)`` pieces in order."""

    def __init__(self, *, start_inside: bool = False) -> None:
        self._buf = ""
        self.inside = start_inside

    def feed(self, delta: str) -> tuple[str, str]:
        self._buf += delta
        visible: list[str] = []
        reasoning: list[str] = []
        while self._buf:
            tags = CLOSE_TAGS if self.inside else OPEN_TAGS
            hits = [(self._buf.find(t), t) for t in tags if t in self._buf]
            if hits:
                pos, tag = min(hits)
                (reasoning if self.inside else visible).append(self._buf[:pos])
                self._buf = self._buf[pos + len(tag):]
                self.inside = not self.inside
                continue
            hold = _partial_suffix(self._buf, tags)
            (reasoning if self.inside else visible).append(self._buf[: len(self._buf) - hold])
            self._buf = self._buf[len(self._buf) - hold:]
            break
        return "".join(visible), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        rest, self._buf = self._buf, ""
        return ("", rest) if self.inside else (rest, "")
