"""Server-sent events, decoded as the WHATWG HTML standard says (§9.2 "Server-sent events").

The stream is UTF-8 (a leading BOM is dropped, bad bytes become U+FFFD); lines end in CRLF, LF or
CR, also when the pair is split between two network reads. Per line: an empty line dispatches the
event; a line starting with ``:`` is a comment; otherwise ``field: value`` (one space after the
colon is dropped; a line without a colon is a field with an empty value). ``data`` lines are joined
with ``\\n``, ``event`` sets the type, ``id`` the last event id (unless it holds NUL), ``retry`` the
reconnection time (ASCII digits only); other fields are ignored. An event with no data is not
dispatched.

The standard discards an event the stream ends in the middle of; :meth:`SSEDecoder.close` hands it
back instead, so the caller can decide (an OpenAI-style reader treats it as a cut stream).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_EOL = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str = ""  # the last event id when this event was dispatched


class SSEDecoder:
    """Incremental decoder: :meth:`feed` bytes as they arrive, get the events they complete."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._buf = ""
        self._started = False
        self._skip_lf = False  # the previous piece ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._has_fields = False  # something was read since the last dispatch
        self.last_id = ""
        self.retry: int | None = None  # reconnection time in ms, when the server set one
        self.comments = 0

    def feed(self, data: bytes) -> list[SSEEvent]:
        return self._text(self._utf8.decode(data))

    def close(self) -> SSEEvent | None:
        """End of stream: the event that was still open (not dispatched per the standard)."""
        events = self._text(self._utf8.decode(b"", final=True))
        if self._buf:
            events += self._line(self._buf)
            self._buf = ""
        assert not events, "a final line cannot complete an event without a blank line"
        if not self._data:
            return None
        pending = SSEEvent("\n".join(self._data), self._event or "message", self.last_id)
        self._data, self._event = [], ""
        return pending

    @property
    def open_fields(self) -> bool:
        """Whether lines of an event not yet dispatched were read (or a partial line)."""
        return self._has_fields or bool(self._buf)

    def _text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        buf = self._buf + text
        events: list[SSEEvent] = []
        start = 0
        for m in _EOL.finditer(buf):
            if m.group() == "\r" and m.end() == len(buf):
                self._skip_lf = True  # CRLF may be split across reads
            events += self._line(buf[start:m.start()])
            start = m.end()
        self._buf = buf[start:]
        return events

    def _line(self, line: str) -> list[SSEEvent]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return []
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._has_fields = True
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value and value.isascii() and value.isdigit():
            self.retry = int(value)
        return []

    def _dispatch(self) -> list[SSEEvent]:
        self._has_fields = False
        if not self._data:
            self._event = ""
            return []
        event = SSEEvent("\n".join(self._data), self._event or "message", self.last_id)
        self._data, self._event = [], ""
        return [event]
