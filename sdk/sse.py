"""A feed-and-flush decoder for ``text/event-stream`` (WHATWG HTML, "Server-sent events").

The decoder does no I/O: the transport's byte chunks go in through :meth:`SSEDecoder.feed`,
whole events come out. Sync and async streaming are thin loops around the same object::

    decoder = SSEDecoder()
    for chunk in response.iter_raw():
        for event in decoder.feed(chunk):
            handle(event)
    for event in decoder.flush():
        handle(event)

Where the spec leaves room, this decoder chooses:

* Bytes are decoded as UTF-8 with replacement (the spec's "UTF-8 decode"), incrementally, so a
  character split across chunks survives and invalid bytes become U+FFFD instead of raising.
  One leading byte order mark is dropped.
* A CR ends a line at once; an LF at the start of the next chunk is then swallowed, so an
  event ending in CR is dispatched without waiting for more bytes.
* Comments (``: keep-alive``) are not events; :attr:`SSEDecoder.comment_count` and
  :attr:`SSEDecoder.last_comment` let an idle timer or a test see that one arrived.
* At end of stream an event without its terminating blank line is discarded, as the spec says;
  :attr:`SSEDecoder.truncated` records that it happened, so a caller can report a cut stream.
  ``SSEDecoder(dispatch_at_eof=True)`` dispatches it instead, for lenient servers.
* A line or an event's data longer than ``max_size`` characters raises :class:`BodyTooLarge`
  rather than growing the buffer without bound.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from hookwire.errors import BodyTooLarge, DecodingError

__all__ = ["DEFAULT_MAX_SIZE", "SSEDecoder", "ServerSentEvent"]

#: Default ceiling for one line and for one event's data: 16 MiB.
DEFAULT_MAX_SIZE = 16 * 1024 * 1024

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSentEvent:
    """One dispatched event.

    ``id`` is the stream's last event ID when the event was dispatched (it persists across
    events, per the spec), or None if the server never sent one. ``retry`` is the reconnection
    time in milliseconds announced inside this event's block, if any.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None

    def json(self, **kwargs: Any) -> Any:
        """The data parsed as JSON; :class:`DecodingError` (a ProtocolError) if it is not."""
        try:
            return json.loads(self.data, **kwargs)
        except ValueError as exc:
            preview = self.data[:80]
            raise DecodingError(
                f"SSE {self.event!r} event data is not JSON ({exc}): {preview!r}"
            ) from exc


class SSEDecoder:
    """Turns ``text/event-stream`` bytes into :class:`ServerSentEvent` objects, chunk by chunk.

    ``feed`` and ``flush`` raise nothing but :class:`BodyTooLarge` (a ProtocolError). After
    ``flush`` the decoder is ready for a new stream; the last event ID and ``retry`` persist,
    as they would across an EventSource reconnection.
    """

    def __init__(self, *, max_size: int = DEFAULT_MAX_SIZE, dispatch_at_eof: bool = False) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        self.max_size = max_size
        self.dispatch_at_eof = dispatch_at_eof
        #: The last event ID seen (``id:`` without NUL); None until the server sends one.
        self.last_event_id: str | None = None
        #: The last valid ``retry:`` value in milliseconds, for a reconnecting caller.
        self.retry: int | None = None
        #: Comment lines seen so far, and the text of the latest (without the colon).
        self.comment_count = 0
        self.last_comment: str | None = None
        #: True when the last ``flush`` discarded an event that lacked its blank line.
        self.truncated = False
        self._reset_stream()

    def _reset_stream(self) -> None:
        # utf-8-sig drops exactly one leading BOM, even when it is split across chunks.
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._pending: list[str] = []  # the unterminated line, in pieces (no quadratic joins)
        self._pending_size = 0
        self._skip_lf = False  # the previous text ended in CR; a leading LF belongs to it
        self._reset_event()

    def _reset_event(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0
        self._event_retry: int | None = None

    # -- public API -------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode a chunk; return the events it completed (often none)."""
        return self._feed_text(self._decoder.decode(data))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: finish the last line and reset for a new stream."""
        events = self._feed_text(self._decoder.decode(b"", final=True))
        if self._pending_size or self._pending:
            events.extend(self._process_line("".join(self._pending)))
        self.truncated = False
        if self._data:
            if self.dispatch_at_eof:
                events.extend(self._dispatch())
            else:
                self.truncated = True
        self._reset_stream()
        return events

    # -- line splitting ---------------------------------------------------------------------
    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
                if not text:
                    return []
        if "\r" not in text and "\n" not in text:
            self._add_pending(text)
            return []
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(text):
            piece = text[start : match.start()]
            if self._pending:
                self._add_pending(piece)
                line = "".join(self._pending)
                self._pending, self._pending_size = [], 0
            else:
                self._check_size(len(piece), "line")
                line = piece
            events.extend(self._process_line(line))
            start = match.end()
        if text.endswith("\r"):
            self._skip_lf = True
        if start < len(text):
            self._add_pending(text[start:])
        return events

    def _add_pending(self, piece: str) -> None:
        self._pending_size += len(piece)
        self._check_size(self._pending_size, "line")
        self._pending.append(piece)

    def _check_size(self, size: int, what: str) -> None:
        if size > self.max_size:
            raise BodyTooLarge(
                f"an SSE {what} passed the decoder's limit of {self.max_size} characters",
                limit=self.max_size,
            )

    # -- the spec's field processing --------------------------------------------------------
    def _process_line(self, line: str) -> list[ServerSentEvent]:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comment_count += 1
            self.last_comment = line[1:].removeprefix(" ")
            return []
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_size += len(value) + 1
            self._check_size(self._data_size, "event's data")
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:  # the spec ignores an id containing NUL
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            # int() refuses over 4300 digits (CVE-2020-10735 guard); such a value is ignored.
            with contextlib.suppress(ValueError):
                self.retry = self._event_retry = int(value)
        # any other field name is ignored, as the spec requires
        return []

    def _dispatch(self) -> list[ServerSentEvent]:
        data, event, retry = self._data, self._event, self._event_retry
        self._reset_event()
        if not data:  # "If the data buffer is an empty string ... return" (no event)
            return []
        return [
            ServerSentEvent(
                event=event or "message",
                data="\n".join(data),
                id=self.last_event_id,
                retry=retry,
            )
        ]
