"""The request journal: what reached the server, for tests to assert on.

Every request (except the `/__mock__/*` control endpoints) is recorded with its sequence number,
headers, body, response status and the fault that was applied. Secret header values are replaced
by "[REDACTED]" when the entry is recorded, so no view of the journal (in-process or over HTTP)
can leak a key. Bounded (oldest entries drop) so a benchmark cannot grow it without limit.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "api-key", "x-api-key"}
)
REDACTED = "[REDACTED]"
TEXT_BODY_LIMIT = 4096


def redact_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Decode ASGI headers into a dict, secret values replaced (repeats joined with ', ')."""
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        value = REDACTED if key in SECRET_HEADERS else value_b.decode("latin-1")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def decode_body(body: bytes, content_type: str) -> Any:
    """JSON bodies decoded; anything else as text, cut at 4 KiB; empty bodies as None."""
    if not body:
        return None
    if "json" in content_type or body[:1] in (b"{", b"["):
        try:
            return json.loads(body)
        except ValueError:
            pass
    return body[:TEXT_BODY_LIMIT].decode("utf-8", errors="replace")


class JournalEntry:
    """One recorded request and what the server did with it.

    Headers and body are decoded (and redacted) on first access, not per request: the hot
    path only keeps references, and the raw values are reachable through no public name.
    """

    __slots__ = (
        "_body",
        "_headers",
        "_raw_body",
        "_raw_headers",
        "extra",
        "fault",
        "method",
        "path",
        "query",
        "seq",
        "status",
        "time",
    )

    def __init__(
        self,
        seq: int,
        time: float,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        raw_body: bytes,
    ) -> None:
        self.seq = seq
        self.time = time
        self.method = method
        self.path = path
        self.query = query
        self._raw_headers = raw_headers
        self._raw_body = raw_body
        self._headers: dict[str, str] | None = None
        self._body: Any = _UNSET
        self.status: int | None = None
        self.fault: str | None = None
        self.extra: dict[str, Any] = {}

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = redact_headers(self._raw_headers)
        return self._headers

    @property
    def body_size(self) -> int:
        return len(self._raw_body)

    @property
    def body(self) -> Any:
        if self._body is _UNSET:
            self._body = decode_body(self._raw_body, self.headers.get("content-type", ""))
        return self._body

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body_size": self.body_size,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
            "extra": self.extra,
        }

    def __repr__(self) -> str:
        return (
            f"JournalEntry(seq={self.seq}, method={self.method!r}, path={self.path!r}, "
            f"status={self.status}, fault={self.fault!r})"
        )


_UNSET: Any = object()


class Journal:
    """Thread-safe, bounded list of `JournalEntry` (the live server runs in another thread)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._last_api: JournalEntry | None = None

    def record(
        self,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> JournalEntry:
        entry = JournalEntry(next(self._seq), time.time(), method, path, query, raw_headers, body)
        with self._lock:
            self._entries.append(entry)
        return entry

    def note_api_request(self, entry: JournalEntry) -> None:
        """Remember `entry` as the latest /v1/* request (for `last_json`)."""
        self._last_api = entry

    @property
    def last_json(self) -> Any:
        """The JSON body of the latest /v1/* request, or None when it was not a JSON object."""
        entry = self._last_api
        body = entry.body if entry is not None else None
        return body if isinstance(body, dict) else None

    def entries(self, path: str | None = None) -> list[JournalEntry]:
        with self._lock:
            items = list(self._entries)
        return items if path is None else [e for e in items if e.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.entries(path))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._last_api = None

    def __len__(self) -> int:
        return len(self._entries)
