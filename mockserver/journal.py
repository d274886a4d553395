"""The request journal: what reached the server, for tests to assert on.

Every request (except the `/__mock__/*` control endpoints) is recorded with its sequence number,
headers, body, response status and the fault that was applied. Secrets are replaced by
"[REDACTED]" when the entry is recorded, by the one rule of `hookwire.mockserver.redact`:
header values, query parameters, JSON keys at any depth, form and multipart fields. So no view
of the journal (in-process, `/__mock__/journal`, `/__mock__/last`) can leak a key, and none is
kept in memory. Bounded (oldest entries drop) so a benchmark cannot grow it without limit.

Each entry also says what the contract-coverage report (`hookwire.mockserver.coverage_report`)
needs: the fault kinds of the rule applied (`fault_kinds`), and for an event stream the features
it actually sent (`stream`: reasoning, content, tool-calls, usage, done, error-event). The call
counters behind `calls=<n>` fault rules live here too (`next_call`), so a shared journal
(`hookwire.mockserver.store`) shares them between worker processes.

`start_tap()` makes every journal of the process hand each finished entry to one collector (the
pytest option `--hookwire-contract-report`); off, a request pays one attribute test for it.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from hookwire.mockserver import redact
from hookwire.mockserver.limits import Limits, loads

if TYPE_CHECKING:
    from hookwire.mockserver.faults import Rule

REDACTED = redact.REDACTED
TEXT_BODY_LIMIT = 4096
JSON_DEPTH = Limits().json_depth


def header_dict(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Decode (already redacted) ASGI headers into a dict (repeats joined with ', ')."""
    out: dict[str, str] = {}
    for key_b, value_b in raw:
        key = key_b.decode("latin-1").lower()
        value = value_b.decode("latin-1")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def redact_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Decode ASGI headers into a dict, secret values replaced (repeats joined with ', ')."""
    return header_dict(redact.header_list(raw))


def _content_type(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key.lower() == b"content-type":
            return value.decode("latin-1")
    return ""


def decode_body(body: bytes, content_type: str, max_depth: int = JSON_DEPTH) -> Any:
    """The body as the journal shows it, secrets redacted: JSON decoded; a form or any other
    text as text, cut at 4 KiB; empty bodies as None."""
    if not body:
        return None
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if "json" in mimetype or body[:1] in (b"{", b"["):
        try:
            return redact.json_value(loads(body, max_depth))
        except ValueError:  # not JSON after all (or too deep): shown as text below
            pass
    if mimetype == "application/x-www-form-urlencoded":
        return redact.pairs(body[:TEXT_BODY_LIMIT].decode("utf-8", errors="replace"))
    if mimetype == "multipart/form-data":
        body = redact.multipart(body, content_type)
    return redact.text(body[:TEXT_BODY_LIMIT].decode("utf-8", errors="replace"))


class JournalEntry:
    """One recorded request and what the server did with it.

    Redacted on construction: secret header values and query parameters at once (a cached
    verdict per name), and a body that may name a secret (`redact.may_hold_secret`, a scan of
    the raw bytes) is decoded and redacted at once too, its raw bytes dropped. Only a body that
    cannot hold a secret is kept raw, and decoded on first access: the hot path stays cheap.
    """

    __slots__ = (
        "_body",
        "_body_size",
        "_headers",
        "_max_depth",
        "_raw_body",
        "_raw_headers",
        "extra",
        "fault",
        "method",
        "path",
        "query",
        "rule",
        "seq",
        "status",
        "stream",
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
        max_depth: int = JSON_DEPTH,
    ) -> None:
        self.seq = seq
        self.time = time
        self.method = method
        self.path = path
        self.query = redact.pairs(query) if query else query
        self._raw_headers = headers = redact.header_list(raw_headers)
        self._body_size = len(raw_body)
        self._max_depth = max_depth
        self._headers: dict[str, str] | None = None
        self._body: Any = _UNSET
        self._raw_body = raw_body
        if raw_body and redact.may_hold_secret(raw_body):
            self._body = decode_body(raw_body, _content_type(headers), max_depth)
            self._raw_body = b""
        self.status: int | None = None
        self.fault: str | None = None
        self.rule: Rule | None = None  # the fault rule applied, if any
        self.stream: set[str] | None = None  # features an event stream sent
        self.extra: dict[str, Any] = {}

    def sent(self, feature: str) -> None:
        """Note that the response (an event stream) sent `feature` (e.g. "reasoning")."""
        if self.stream is None:
            self.stream = {feature}
        else:
            self.stream.add(feature)

    @property
    def fault_kinds(self) -> list[str]:
        return [] if self.rule is None else self.rule.kinds()

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = header_dict(self._raw_headers)
        return self._headers

    @property
    def body_size(self) -> int:
        return self._body_size

    @property
    def body(self) -> Any:
        if self._body is _UNSET:
            content_type = _content_type(self._raw_headers)
            self._body = decode_body(self._raw_body, content_type, self._max_depth)
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
            "fault_kinds": self.fault_kinds,
            "stream": None if self.stream is None else sorted(self.stream),
            "pid": _PID,
            "extra": self.extra,
        }

    def __repr__(self) -> str:
        return (
            f"JournalEntry(seq={self.seq}, method={self.method!r}, path={self.path!r}, "
            f"status={self.status}, fault={self.fault!r})"
        )


_UNSET: Any = object()
_PID = os.getpid()  # worker processes are spawned: each imports this module afresh

Finish = Callable[["JournalEntry"], None]
# the process-wide collectors of finished entries (`start_tap`), and every journal to tell
_taps: list[Finish] = []
_journals: weakref.WeakSet[Journal] = weakref.WeakSet()


def start_tap(collect: Finish) -> None:
    """Hand every finished entry of every journal in this process to `collect` (the app calls
    `Journal.finish` once a request is over, its stream sent or its connection dropped)."""
    _taps.append(collect)
    for journal in list(_journals):
        journal.finish = _chain(journal._own_finish)


def stop_tap(collect: Finish) -> None:
    if collect in _taps:
        _taps.remove(collect)
    for journal in list(_journals):
        journal.finish = _chain(journal._own_finish)


def _chain(own: Finish | None) -> Finish | None:
    """One callable for the journal's own finish and the taps (None when there is nothing)."""
    calls = ([own] if own is not None else []) + _taps
    if not calls:
        return None
    if len(calls) == 1:
        return calls[0]

    def chained(entry: JournalEntry) -> None:
        for call in calls:
            call(entry)

    return chained


class Journal:
    """Thread-safe, bounded list of `JournalEntry` (the live server runs in another thread)."""

    def __init__(self, maxlen: int = 10_000, max_depth: int = JSON_DEPTH) -> None:
        self._max_depth = max_depth
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._last_api: JournalEntry | None = None
        self.calls: dict[tuple[str, str], int] = {}
        # what the app calls with each finished entry: nothing (None) unless a tap or a shared
        # store wants it; the app tests the attribute, so the fast path makes no call
        self._own_finish: Finish | None = None
        self.finish: Finish | None = _chain(None)
        _journals.add(self)

    def next_call(self, session: str, path: str) -> int:
        """The 1-based number of this call of `path` in `session` (what `calls=<n>` matches)."""
        key = (session, path)
        number = self.calls.get(key, 0) + 1
        self.calls[key] = number
        return number

    def record(
        self,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> JournalEntry:
        entry = JournalEntry(
            next(self._seq), time.time(), method, path, query, raw_headers, body, self._max_depth
        )
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
            self.calls.clear()

    def __len__(self) -> int:
        return len(self._entries)
