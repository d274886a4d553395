"""An opt-in response cache: the same request answered from memory or an SQLite file.

::

    llm = hookwire.LLM("siliconflow", model="Qwen/Qwen3-8B", cache="sqlite", cache_ttl=86400)
    llm.chat("Translate 'cat' to French", temperature=0)      # sent
    llm.chat("Translate 'cat' to French", temperature=0)      # from the cache: result.cached

``cache=True`` or ``"memory"`` keeps replies in this process (a :class:`MemoryCache`, least
recently used first out); ``"sqlite"`` keeps them in ``hookwire``'s user cache directory, a path
names another file (a :class:`SQLiteCache`, shared by processes); any object with this module's
``get``/``set`` methods works too. The key is a SHA-256 of the normalised request: provider,
base URL, model, messages, tools and every sampling option (not headers, timeouts or whether it
streams), so a streamed reply answers a later ``chat`` and the other way round, and a cached
stream replays as a stream, with the pieces it arrived in.

Only replies that are the same every time are kept: ``temperature=0``; a sampled reply
(``temperature`` unset or above 0) is kept only with ``cache_sampled=True``. Errors, and replies
that did not finish (``finish_reason`` other than stop, length or tool_calls), are never kept.
``cache_ttl`` (seconds) and the caches' ``max_entries`` bound them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

from hookwire.errors import ConfigError, InvalidRequest

__all__ = ["MemoryCache", "ResponseCache", "SQLiteCache", "cache_of", "request_key"]

#: The version of the stored layout, part of every key: a new layout never reads an old entry.
LAYOUT = 1


class ResponseCache(Protocol):
    """What a cache must do: bytes in, bytes out, under a hex key."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float | None) -> None: ...


class MemoryCache:
    """An in-process cache of at most ``max_entries`` replies, least recently used out first."""

    def __init__(self, max_entries: int = 1024, *, clock: Any = time.monotonic) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidRequest(f"max_entries must be an integer >= 1, not {max_entries!r}")
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires is not None and expires <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        expires = None if ttl is None else self._clock() + ttl
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("hookwire")) / "llm-cache.sqlite3"


class SQLiteCache:
    """Replies in an SQLite file (WAL mode, safe for several processes), at most
    ``max_entries``; expired and least recently used entries are pruned as new ones arrive."""

    def __init__(
        self, path: str | Path | None = None, *, max_entries: int = 10_000,
        clock: Any = time.time,
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidRequest(f"max_entries must be an integer >= 1, not {max_entries!r}")
        self.path = Path(path) if path is not None else default_path()
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value BLOB NOT NULL, "
                "expires REAL, used REAL NOT NULL)"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the response cache {str(self.path)!r}: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        now = self._clock()
        with self._lock:
            row = self._db.execute(
                "SELECT value, expires FROM replies WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if row[1] is not None and row[1] <= now:
                self._db.execute("DELETE FROM replies WHERE key = ?", (key,))
                self._db.commit()
                return None
            self._db.execute("UPDATE replies SET used = ? WHERE key = ?", (now, key))
            self._db.commit()
            return bytes(row[0])

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        now = self._clock()
        expires = None if ttl is None else now + ttl
        with self._lock:
            db = self._db
            db.execute(
                "INSERT OR REPLACE INTO replies (key, value, expires, used) VALUES (?, ?, ?, ?)",
                (key, value, expires, now),
            )
            db.execute("DELETE FROM replies WHERE expires IS NOT NULL AND expires <= ?", (now,))
            db.execute(
                "DELETE FROM replies WHERE key IN (SELECT key FROM replies "
                "ORDER BY used DESC, rowid DESC LIMIT -1 OFFSET ?)", (self.max_entries,),
            )
            db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0])

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM replies")
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def cache_of(value: Any) -> ResponseCache | None:
    """``cache=``: None/False (off), True/"memory", "sqlite", a path, or a cache object."""
    if value is None or value is False:
        return None
    if value is True or value == "memory":
        return MemoryCache()
    if value == "sqlite":
        return SQLiteCache()
    if isinstance(value, (str, Path)):
        return SQLiteCache(value)
    if callable(getattr(value, "get", None)) and callable(getattr(value, "set", None)):
        return value  # type: ignore[no-any-return]
    raise InvalidRequest(
        f"cache must be True, 'memory', 'sqlite', a file path or a cache object, not {value!r}"
    )


_KEYED = (
    "temperature", "top_p", "max_tokens", "stop", "seed", "thinking", "thinking_budget",
    "tools", "tool_choice", "response_format", "n", "logprobs", "top_logprobs", "extra_body",
)


def request_key(provider: Any, req: Any) -> str:
    """The cache key of ``req`` on ``provider``: what decides the reply, hashed."""
    body: dict[str, Any] = {
        "layout": LAYOUT,
        "provider": provider.name,
        "base_url": str(getattr(provider, "base_url", "") or ""),
        "model": req.model or provider.model,
        "messages": [m.to_wire() for m in req.messages],
    }
    for name in _KEYED:
        value = getattr(req, name)
        if value is not None and value != {}:
            body[name] = value
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
