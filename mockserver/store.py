"""One truth for many workers: journal, call counters and scenario rules in a SQLite file.

With ``hookwire mock serve --workers N`` every worker is its own process with its own app. So
that ``/__mock__/journal`` shows every worker's traffic, a rule keyed by call number ("fail the
3rd call") fails exactly the 3rd call whichever worker takes it, and a rule posted to one
worker applies on all, the parent process makes one SQLite file (WAL mode) and passes its path
to the workers (`ENV_STORE`); each worker serves with a `SharedJournal` and a `SharedScenario`
over it, one connection per process, one short transaction per statement. The file is removed
when the server stops. A single process keeps the in-memory `Journal` and `Scenario`: that is
the fast path, and it pays nothing for this module.

| piece             | in memory (one process) | shared (`SQLiteStore`)                      |
|-------------------|-------------------------|---------------------------------------------|
| journal entries   | `Journal` (a deque)     | table `journal`, the entry's dict as JSON    |
| call counters     | `Journal.calls` (dict)  | table `calls`, one UPSERT ... RETURNING      |
| scenario rules    | `Scenario` (a list)     | table `rules`; workers reload on a version   |

Both pairs are one interface (record, next_call, entries, count, clear, last_json; add, rules,
match, clear), and one contract test runs against both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookwire.mockserver.faults import Rule
from hookwire.mockserver.journal import JSON_DEPTH, Journal, JournalEntry, _chain
from hookwire.mockserver.scenario import Scenario, load_tables, rule_from_dict

if TYPE_CHECKING:
    from hookwire.mockserver.app import MockApp
    from hookwire.mockserver.config import MockConfig

__all__ = [
    "ENV_STORE",
    "SQLiteStore",
    "SharedJournal",
    "SharedScenario",
    "StoredEntry",
    "attach_from_env",
    "shared_store",
]

ENV_STORE = "MOCKSERVER_STORE"
_TRIM_EVERY = 512  # inserts between trims of the journal to its bound

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS calls (session TEXT, path TEXT, n INTEGER, PRIMARY KEY (session, path));
CREATE TABLE IF NOT EXISTS rules (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER);
INSERT OR IGNORE INTO meta VALUES ('rules', 0);
"""


class SQLiteStore:
    """The shared tables; one connection per process (opened on first use, reopened after a
    fork), guarded by a lock since the app may record from a worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._inserts = 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # a mock's state dies with the server (the file is temporary): no fsync at all
            conn.execute("PRAGMA synchronous=OFF")
            conn.executescript(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _run(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db().execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # journal and counters
    def insert(self, path: str, data: dict[str, Any], maxlen: int) -> int:
        """Store an entry; returns its sequence number (1-based, in order across workers).
        `data` is what it shows until `update` writes it whole (at the end of its request)."""
        text = json.dumps(data, default=str)
        with self._lock:
            db = self._db()
            cursor = db.execute("INSERT INTO journal (path, data) VALUES (?, ?)", (path, text))
            seq = int(cursor.lastrowid or 0)
            self._inserts += 1
            if self._inserts % _TRIM_EVERY == 0:
                db.execute("DELETE FROM journal WHERE seq <= ?", (seq - maxlen,))
        return seq

    def update(self, seq: int, data: dict[str, Any]) -> None:
        self._run("UPDATE journal SET data = ? WHERE seq = ?", (json.dumps(data, default=str), seq))

    def entries(self, path: str | None = None, maxlen: int | None = None) -> list[dict[str, Any]]:
        if path is None:
            rows = self._run("SELECT seq, data FROM journal ORDER BY seq")
        else:
            rows = self._run("SELECT seq, data FROM journal WHERE path = ? ORDER BY seq", (path,))
        if maxlen is not None:
            rows = rows[-maxlen:]
        return [{**json.loads(data), "seq": seq} for seq, data in rows]

    def last_api(self) -> dict[str, Any] | None:
        rows = self._run(
            "SELECT seq, data FROM journal WHERE path LIKE '/v1/%' ORDER BY seq DESC LIMIT 1"
        )
        return {**json.loads(rows[0][1]), "seq": rows[0][0]} if rows else None

    def count(self, path: str | None = None) -> int:
        if path is None:
            return int(self._run("SELECT count(*) FROM journal")[0][0])
        return int(self._run("SELECT count(*) FROM journal WHERE path = ?", (path,))[0][0])

    def next_call(self, session: str, path: str) -> int:
        rows = self._run(
            "INSERT INTO calls VALUES (?, ?, 1) ON CONFLICT (session, path) "
            "DO UPDATE SET n = n + 1 RETURNING n",
            (session, path),
        )
        return int(rows[0][0])

    def calls(self) -> dict[tuple[str, str], int]:
        return {(s, p): n for s, p, n in self._run("SELECT session, path, n FROM calls")}

    def clear(self) -> None:
        """Forget entries and call counters (sequence numbers go on from where they were)."""
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM journal")
            db.execute("DELETE FROM calls")
            db.execute("COMMIT")

    # scenario rules: a change also replaces the file `<path>.rules` (a new inode), so a
    # worker learns of it by one stat() a request rather than a query
    def add_rule(self, data: dict[str, Any]) -> None:
        self._change_rules("INSERT INTO rules (data) VALUES (?)", (json.dumps(data),))

    def clear_rules(self) -> None:
        self._change_rules("DELETE FROM rules", ())

    def _change_rules(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            db.execute(sql, args)
            db.execute("UPDATE meta SET v = v + 1 WHERE k = 'rules'")
            version = db.execute("SELECT v FROM meta WHERE k = 'rules'").fetchone()[0]
            temp = f"{self.path}.rules.{os.getpid()}"
            Path(temp).write_text(str(version))
            os.replace(temp, self.path + ".rules")
            db.execute("COMMIT")

    def rules_version(self) -> tuple[int, int]:
        """Changes whenever the rules do (in any process); cheap: one stat()."""
        try:
            st = os.stat(self.path + ".rules")
        except FileNotFoundError:
            self._db()  # the tables exist from here on; no rule was ever changed
            return (0, 0)
        return (st.st_ino, st.st_mtime_ns)

    def rules(self) -> list[dict[str, Any]]:
        return [json.loads(data) for (data,) in self._run("SELECT data FROM rules ORDER BY id")]


class StoredEntry:
    """A journal entry read back from the store: its dict, with the attributes of an entry."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        d = self._data
        return f"StoredEntry(seq={d.get('seq')}, path={d.get('path')!r}, status={d.get('status')})"


class SharedJournal(Journal):
    """A `Journal` whose entries and call counters live in a `SQLiteStore`: each entry is
    written when recorded and again when its request is finished (status, faults, stream)."""

    def __init__(
        self, store: SQLiteStore, maxlen: int = 10_000, max_depth: int = JSON_DEPTH
    ) -> None:
        super().__init__(maxlen, max_depth)
        self.store = store
        self._maxlen = maxlen
        self._own_finish = self._write
        self.finish = _chain(self._own_finish)  # and any tap (the pytest option)

    def record(
        self,
        method: str,
        path: str,
        query: str,
        raw_headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> JournalEntry:
        depth = self._max_depth
        entry = JournalEntry(0, time.time(), method, path, query, raw_headers, body, depth)
        # the whole entry is written when its request ends (`_write`); until then, this much
        head = {"method": method, "path": path, "query": entry.query, "status": None}
        entry.seq = self.store.insert(path, {**head, "pid": os.getpid()}, self._maxlen)
        return entry

    def _write(self, entry: JournalEntry) -> None:
        self.store.update(entry.seq, entry.to_dict())

    def note_api_request(self, entry: JournalEntry) -> None:
        pass  # the store answers last_json from its own rows

    @property
    def last_json(self) -> Any:
        data = self.store.last_api()
        body = data.get("body") if data is not None else None
        return body if isinstance(body, dict) else None

    def entries(self, path: str | None = None) -> list[Any]:
        return [StoredEntry(d) for d in self.store.entries(path, self._maxlen)]

    def count(self, path: str | None = None) -> int:
        return min(self.store.count(path), self._maxlen)

    def next_call(self, session: str, path: str) -> int:
        return self.store.next_call(session, path)

    @property
    def calls(self) -> dict[tuple[str, str], int]:
        return self.store.calls()

    @calls.setter
    def calls(self, value: dict[tuple[str, str], int]) -> None:
        pass  # Journal.__init__ sets one; the store keeps the counters

    def clear(self) -> None:
        self.store.clear()

    def __len__(self) -> int:
        return self.count()


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    return dataclasses.asdict(rule)


def rule_from_stored(data: dict[str, Any]) -> Rule:
    calls = data.get("calls")
    return Rule(**{**data, "calls": tuple(calls) if calls else None})


class SharedScenario(Scenario):
    """A `Scenario` whose rules live in a `SQLiteStore`: added on one worker, applied on all
    (each worker rereads the rules when their version changes; one small query a request)."""

    def __init__(self, store: SQLiteStore) -> None:
        super().__init__()
        self.store = store
        self._version: tuple[int, int] | None = None

    def _refresh(self) -> None:
        version = self.store.rules_version()
        if version != self._version:
            rules = [rule_from_stored(d) for d in self.store.rules()]
            with self._lock:
                self._rules, self._version = rules, version

    def add(self, rule: dict[str, Any] | Rule) -> Rule:
        parsed = rule if isinstance(rule, Rule) else rule_from_dict(rule)
        self.store.add_rule(rule_to_dict(parsed))
        return parsed

    def clear(self) -> None:
        self.store.clear_rules()

    @property
    def rules(self) -> list[Rule]:
        self._refresh()
        with self._lock:
            return list(self._rules)

    def __bool__(self) -> bool:
        self._refresh()
        return bool(self._rules)

    def match(self, method: str, path: str, session: str, call_number: int) -> Rule | None:
        self._refresh()
        return super().match(method, path, session, call_number)


def attach_from_env(app: MockApp) -> None:
    """In a worker process: serve `app` from the store the parent made, if it made one."""
    path = os.environ.get(ENV_STORE)
    if path:
        store = SQLiteStore(path)
        app.use(SharedJournal(store, max_depth=app.config.limits.json_depth), SharedScenario(store))


@contextlib.contextmanager
def shared_store(config: MockConfig) -> Iterator[SQLiteStore]:
    """In the parent: a fresh store (the scenario file's rules in it) for the workers to
    share, named in `ENV_STORE` while the block runs; removed, file and all, at the end."""
    directory = tempfile.mkdtemp(prefix="hookwire-mock-store-")
    store = SQLiteStore(Path(directory) / "state.sqlite3")
    previous = os.environ.get(ENV_STORE)
    try:
        if config.scenario:
            for where, table in load_tables(config.scenario):
                store.add_rule(rule_to_dict(rule_from_dict(table, where)))
        else:
            store.rules_version()  # creates the tables before any worker starts
        os.environ[ENV_STORE] = store.path
        yield store
    finally:
        if previous is None:
            os.environ.pop(ENV_STORE, None)
        else:
            os.environ[ENV_STORE] = previous
        store.close()
        shutil.rmtree(directory, ignore_errors=True)
