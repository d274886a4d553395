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
    return b"data: " + dumps(obj) + b"\n\n"


def malformed(obj: Any) -> bytes:
    """A data event whose payload is cut mid-object: valid UTF-8, invalid JSON."""
    raw = dumps(obj)
    return b"data: " + raw[: max(1, len(raw) // 2)] + b"\n\n"
