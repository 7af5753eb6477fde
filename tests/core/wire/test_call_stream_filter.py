r"""The streaming call filter shows the same text as the simple version it replaced.

The old filter re-read everything seen on every delta (its cost grew with the reply); it is kept
here as the oracle, with one change: at the very start of a reply, shorter than the longest
marker, its tail check sliced with a negative end and showed a backtick or two that might begin
a \`\`\`json fence. The new filter holds them back like any other tail that may begin a marker.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.wire.tool_calls import CallStreamFilter, MarkupFilter


class QuadraticFilter:
    """The filter as it was, re-reading everything seen on every delta: the oracle."""

    def __init__(self) -> None:
        self._markup = MarkupFilter()
        self._seen = ""  # visible text so far, including held text
        self._held_from: int | None = None
        self.emitted = ""

    def feed(self, delta: str) -> str:
        visible = self._markup.feed(delta)
        if not visible:
            return ""
        self._seen += visible
        if self._held_from is None:
            stripped = self._seen.lstrip()
            # "[" also covers "[TOOL_CALLS]"; "<|" starts "<|python_tag|>" (never prose).
            if stripped[:1] in ("{", "[") or stripped[:2] == "<|":
                self._held_from = len(self._seen) - len(stripped)
            else:
                for marker in ("```json", "```tool", "\n{"):
                    idx = self._seen.find(marker, max(0, len(self.emitted) - len(marker)))
                    if idx >= 0:
                        self._held_from = idx
                        break
            if self._held_from is None:
                # Keep back a tail that might be the start of a marker.
                safe = len(self._seen)
                for n in range(1, min(8, len(self._seen) + 1)):  # the one change: see above
                    tail = self._seen[-n:]
                    if any(m.startswith(tail) for m in ("```json", "```tool", "\n{")):
                        safe = len(self._seen) - n
                out = self._seen[len(self.emitted):safe]
                self.emitted += out
                return out
        out = self._seen[len(self.emitted):self._held_from]
        self.emitted += out
        return out

    def finish(self, final_visible: str) -> str:
        """Text still to show, given the reply's visible text once calls were parsed out."""
        self._seen += self._markup.flush()
        rest = final_visible[len(self.emitted):] if final_visible.startswith(self.emitted) else ""
        self.emitted += rest
        return rest


PIECES = ["hello ", "world", "\n", "\n{", "{", "[", "```", "json", "```json\n", "```tool",
          "`", "``", " ", "  ", "<", "<|", "|python_tag|>", "<tool_call>", "</tool_call>",
          '{"name": "x"}', "text, more text. ", "\n\n", "}", "<function=f>", "</function>"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30),
       st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=40))
def test_same_output_as_the_filter_it_replaced(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    new, ref = CallStreamFilter(), QuadraticFilter()
    pos = i = 0
    while pos < len(text):
        step = cuts[i % len(cuts)]
        delta = text[pos:pos + step]
        assert new.feed(delta) == ref.feed(delta), (text, pos)
        assert new.holding == (ref._held_from is not None)
        pos += step
        i += 1
    assert new.emitted == ref.emitted
    assert new.finish(text) == ref.finish(text)
    assert new.emitted == ref.emitted
