"""Server-sent events encoding (WHATWG HTML, "event stream" format), written for the mock alone.

One JSON payload per `data:` line; JSON never contains a raw newline, so one line suffices.
"""

from __future__ import annotations

import json
from typing import Any

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (UTF-8, no ASCII escaping)."""
    return _dumps(obj).encode("utf-8")


def event(obj: Any) -> bytes:
    """One `data:` event; `obj` is a JSON-able value or JSON already encoded as bytes."""
    return b"data: " + (obj if isinstance(obj, bytes) else dumps(obj)) + b"\n\n"


def malformed(obj: Any) -> bytes:
    """A data event whose payload is cut mid-object: valid UTF-8, invalid JSON."""
    raw = obj if isinstance(obj, bytes) else dumps(obj)
    return b"data: " + raw[: max(1, len(raw) // 2)] + b"\n\n"


class Template:
    """Encode many payloads that differ in one string field, without re-encoding the rest.

    A 1,000-token stream is 1,000 chunks identical but for the piece of text they carry;
    encoding the envelope once and splicing each piece in makes chunk encoding ~5x cheaper.
    """

    SLOT = "\x00mock-slot\x00"

    def __init__(self, payload: Any) -> None:
        before, _, after = dumps(payload).partition(dumps(self.SLOT))
        if not after:
            raise ValueError("payload must contain Template.SLOT exactly once")
        self._before = before
        self._after = after

    def fill(self, text: str) -> bytes:
        return self._before + dumps(text) + self._after
