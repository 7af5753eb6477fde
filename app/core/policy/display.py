"""Text shown to the user for a decision never carries terminal control sequences.

A command or file name may hold ESC sequences (which would repaint or retitle the terminal),
other C0/C1 controls, or invisible format characters such as right-to-left overrides that make a
command read differently from what runs. They are shown as visible escapes (``\\x1b``,
``\\u202e``) so the user sees that something odd is there.
"""

from __future__ import annotations

import unicodedata


def visible(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in "\n\t":
            out.append(ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
