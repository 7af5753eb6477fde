"""Is a file text? Decided from its first bytes, the way git and grep decide."""

from __future__ import annotations

SNIFF_BYTES = 8192
# Bytes that do not occur in text (everything below 0x20 except tab, newline, vertical tab,
# form feed, carriage return and escape).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_CONTROL_TABLE = bytes.maketrans(b"", b"")


def looks_binary(head: bytes) -> bool:
    """True for data that is not text: a NUL byte, or more than 10% control characters."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(_CONTROL_TABLE, _CONTROL))
    return controls * 10 > len(head)


def as_utf8(data: bytes) -> bytes:
    """The bytes as valid UTF-8: unchanged when they already are, else decoded with replacement."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace").encode("utf-8")
