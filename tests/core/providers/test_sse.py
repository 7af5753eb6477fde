"""The SSE decoder against the WHATWG standard (HTML §9.2.6 "Interpreting an event stream").

``reference`` transcribes the standard's algorithm over a whole stream; hypothesis then checks
that the incremental decoder agrees with it however the bytes are split (mid-line, mid-CRLF,
mid-UTF-8 character), and that events survive a round trip through any line endings and comments.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.providers.sse import SSEDecoder, SSEEvent

settings.register_profile("sse", max_examples=300, deadline=None)


def reference(stream: str) -> tuple[list[SSEEvent], int | None]:
    """The standard's algorithm, step by step, for a complete stream."""
    if stream.startswith("\ufeff"):
        stream = stream[1:]
    # Lines end in CRLF, LF or CR; what follows the last end of line is not a line.
    lines = re.split(r"\r\n|\r|\n", stream)[:-1]
    events: list[SSEEvent] = []
    data, event_type, last_id, retry = "", "", "", None
    for line in lines:
        if line == "":  # dispatch
            if data == "":
                event_type = ""
                continue
            if data.endswith("\n"):
                data = data[:-1]
            events.append(SSEEvent(data, event_type or "message", last_id))
            data, event_type = "", ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            name, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data += value + "\n"
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events, retry


def decode(chunks: list[bytes]) -> tuple[list[SSEEvent], SSEDecoder]:
    dec = SSEDecoder()
    out: list[SSEEvent] = []
    for c in chunks:
        out += dec.feed(c)
    return out, dec


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    pieces, start = [], 0
    for p in points:
        pieces.append(data[start:p])
        start = p
    pieces.append(data[start:])
    return pieces


TOKENS = ["data", "event", "id", "retry", ":", " ", "\r", "\n", "\r\n", "x", "é", "€", "\0",
          "7", "42", "[DONE]", "{}", "\ufeff", "message", "\n\n", "data: ", "data:"]
streams = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
cuts = st.lists(st.integers(min_value=0, max_value=400), max_size=12)


@settings(settings.get_profile("sse"))
@given(stream=streams, cut_at=cuts)
def test_any_split_of_any_stream_decodes_as_the_standard_says(stream: str,
                                                              cut_at: list[int]) -> None:
    expected, retry = reference(stream)
    events, dec = decode(split(stream.encode("utf-8"), cut_at))
    assert events == expected
    assert dec.retry == retry


@settings(settings.get_profile("sse"))
@given(stream=streams, cut_at=cuts)
def test_an_open_event_at_the_end_is_handed_back_not_dispatched(stream: str,
                                                                cut_at: list[int]) -> None:
    tail = stream + "\ndata: last piece"  # no blank line after it: the stream was cut
    expected, _ = reference(tail)
    events, dec = decode(split(tail.encode("utf-8"), cut_at))
    assert events == expected
    pending = dec.close()
    assert pending is not None and pending.data.endswith("last piece")


event_data = st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n",
                                                     blacklist_categories=("Cs",)),
                              max_size=12), min_size=1, max_size=4).map("\n".join)
event_types = st.text(alphabet="abcxyz_-", min_size=0, max_size=6)
line_ends = st.sampled_from(["\n", "\r", "\r\n"])


@settings(settings.get_profile("sse"))
@given(events=st.lists(st.tuples(event_data, event_types), max_size=6), eol=line_ends,
       comments=st.booleans(), cut_at=cuts)
def test_events_survive_any_line_endings_comments_and_splits(
        events: list[tuple[str, str]], eol: str, comments: bool, cut_at: list[int]) -> None:
    out = []
    for data, etype in events:
        if comments:
            out.append(": keep-alive" + eol)
        if etype:
            out.append(f"event: {etype}{eol}")
        out += [f"data: {line}{eol}" for line in data.split("\n")]
        out.append(eol)
    decoded, _ = decode(split("".join(out).encode("utf-8"), cut_at))
    assert [(e.data, e.event) for e in decoded] == [(d, t or "message") for d, t in events]


@given(raw=st.binary(max_size=200), cut_at=cuts)
def test_bytes_that_are_not_utf8_never_raise(raw: bytes, cut_at: list[int]) -> None:
    events, _ = decode(split(b"data: " + raw + b"\n\n", cut_at))
    assert events == reference("data: " + raw.decode("utf-8", "replace") + "\n\n")[0]


def test_the_examples_of_the_standard() -> None:
    # HTML §9.2.6: "data:test" with and without the space are the same; "data" alone is "".
    text = "data\n\ndata\ndata\n\ndata:\n\ndata:test\n\ndata: test\n\n: comment\nevent: add\n" \
           "data: 73857293\n\nid: 9\nretry: 10000\ndata: YHOO\ndata: +2\ndata\n\n"
    events, dec = decode([text.encode()])
    assert [e.data for e in events] == ["", "\n", "", "test", "test", "73857293",
                                       "YHOO\n+2\n"]
    assert events[5].event == "add" and events[6].id == "9" and dec.retry == 10000
