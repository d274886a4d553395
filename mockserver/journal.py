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
from dataclasses import asdict, dataclass, field
from typing import Any

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "api-key", "x-api-key"})
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


@dataclass
class JournalEntry:
    """One recorded request and what the server did with it."""

    seq: int
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body_size: int
    body: Any
    status: int | None = None
    fault: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """Thread-safe, bounded list of `JournalEntry` (the live server runs in another thread)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.last_json: Any = None

    def record(
        self,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> JournalEntry:
        headers = redact_headers(raw_headers)
        entry = JournalEntry(
            seq=next(self._seq),
            time=time.time(),
            method=method,
            path=path,
            query=query,
            headers=headers,
            body_size=len(body),
            body=decode_body(body, headers.get("content-type", "")),
        )
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self, path: str | None = None) -> list[JournalEntry]:
        with self._lock:
            items = list(self._entries)
        return items if path is None else [e for e in items if e.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.entries(path))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.last_json = None

    def __len__(self) -> int:
        return len(self._entries)
