"""The local chat history: one SQLite file, as llm keeps (``hookwire logs`` reads it).

The file is ``platformdirs.user_data_dir("hookwire")/logs.db`` (``~/.local/share/hookwire`` on
Linux), or the path in ``HOOKWIRE_LOGS_PATH``. Logging is on unless a ``logs-off`` file sits
next to it (``hookwire logs off``), as llm does; ``--no-log`` skips one command.

What is stored is what a user wants to find again: prompt, system prompt, answer, reasoning,
provider, model, the server's URL without credentials or query, sampling options, timing and
token counts. Never an API key, a header or the URL's user:password. The directory is made
0700 and the file 0600: prompts can be private.

Two tables (``PRAGMA user_version`` = 1)::

    conversations(id, provider, model, base_url, created_utc)
    responses(id, conversation_id, datetime_utc, provider, model, system, prompt, response,
              reasoning, finish_reason, options_json, duration_ms, input_tokens, output_tokens)
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hookwire.cli._errors import CLIError

PATH_ENV = "HOOKWIRE_LOGS_PATH"
OFF_MARKER = "logs-off"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    provider TEXT,
    model TEXT,
    base_url TEXT,
    created_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    datetime_utc TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    system TEXT,
    prompt TEXT NOT NULL,
    response TEXT NOT NULL,
    reasoning TEXT,
    finish_reason TEXT,
    options_json TEXT,
    duration_ms INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER
);
CREATE INDEX IF NOT EXISTS responses_by_conversation ON responses(conversation_id, id);
"""


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """``HOOKWIRE_LOGS_PATH``, else ``logs.db`` in the platform's user data directory."""
    env = os.environ if environ is None else environ
    override = env.get(PATH_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # here, not at import: `hookwire --help` stays quick

    return Path(platformdirs.user_data_dir("hookwire")) / "logs.db"


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def new_id() -> str:
    """Sortable by time (milliseconds in hex) and unique (random tail): 20 hex digits."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Conversation:
    id: str
    provider: str | None
    model: str | None
    base_url: str | None
    created_utc: str


@dataclass(frozen=True)
class Entry:
    """One logged exchange (a row of ``responses``)."""

    id: int
    conversation_id: str
    datetime_utc: str
    provider: str | None
    model: str | None
    system: str | None
    prompt: str
    response: str
    reasoning: str | None = None
    finish_reason: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    duration_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Record:
    """What :meth:`History.record` writes for one exchange."""

    prompt: str
    response: str
    provider: str | None = None
    model: str | None = None
    system: str | None = None
    reasoning: str | None = None
    finish_reason: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    duration_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class History:
    """The history file at ``path``; opened on first use, never created just to be read."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_path()
        self._conn: sqlite3.Connection | None = None

    # -- on/off ------------------------------------------------------------------------------
    @property
    def off_marker(self) -> Path:
        return self.path.parent / OFF_MARKER

    @property
    def logging_on(self) -> bool:
        return not self.off_marker.exists()

    def set_logging(self, on: bool) -> None:
        try:
            if on:
                self.off_marker.unlink(missing_ok=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.off_marker.touch()
        except OSError as exc:
            raise self._error(exc) from None

    # -- connection --------------------------------------------------------------------------
    def _error(self, exc: BaseException) -> CLIError:
        return CLIError(
            f"the history file {self.path} cannot be used ({exc}); move it away, or set "
            f"{PATH_ENV} to another file"
        )

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def _create_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another hookwire made it meanwhile
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            if not self.exists:
                self._create_file()
            conn = sqlite3.connect(self.path, timeout=5.0)
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(
                        f"it was written by a newer hookwire (schema {version})"
                    )
                if version < SCHEMA_VERSION:
                    with conn:
                        conn.executescript(_SCHEMA)
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                conn.close()
                raise
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None
        self._conn = conn
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------
    def start(self, provider: str | None, model: str | None, base_url: str | None) -> str:
        """A new conversation; its id."""
        cid = new_id()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations (id, provider, model, base_url, created_utc) "
                "VALUES (?, ?, ?, ?, ?)",
                (cid, provider, model, base_url, utc_now()),
            )
        return cid

    def record(self, conversation_id: str, record: Record) -> int:
        """Log one exchange in conversation ``conversation_id``; the new entry's id."""
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO responses (conversation_id, datetime_utc, provider, model, system, "
                "prompt, response, reasoning, finish_reason, options_json, duration_ms, "
                "input_tokens, output_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id, utc_now(), record.provider, record.model,
                    record.system, record.prompt, record.response, record.reasoning,
                    record.finish_reason, json.dumps(record.options, sort_keys=True),
                    record.duration_ms, record.input_tokens, record.output_tokens,
                ),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    # -- reading -----------------------------------------------------------------------------
    def conversation(self, cid: str) -> Conversation | None:
        if not self.exists:
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT id, provider, model, base_url, created_utc FROM conversations "
                "WHERE id = ?",
                (cid,),
            ).fetchone()
        return Conversation(*row) if row else None

    def latest(self) -> Conversation | None:
        """The conversation of the most recent exchange."""
        if not self.exists:
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT conversation_id FROM responses ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return self.conversation(row[0]) if row else None

    def entries(
        self,
        *,
        query: str | None = None,
        model: str | None = None,
        conversation_id: str | None = None,
        limit: int = 0,
    ) -> list[Entry]:
        """Matching exchanges, oldest first: the latest ``limit`` of them (0: all).

        ``query``: every word must appear in the prompt, the system prompt or the answer
        (case-insensitive for ASCII letters, as SQLite's LIKE).
        """
        if not self.exists:
            return []
        where: list[str] = []
        args: list[Any] = []
        for term in (query or "").split():
            where.append(
                "(prompt LIKE ? ESCAPE '\\' OR response LIKE ? ESCAPE '\\' "
                "OR system LIKE ? ESCAPE '\\')"
            )
            args += [_like(term)] * 3
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if conversation_id is not None:
            where.append("conversation_id = ?")
            args.append(conversation_id)
        # Only constant clauses go into the text; every value is bound.
        sql = _SELECT
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit > 0:
            sql += f" LIMIT {int(limit)}"
        with self._db() as db:
            rows = db.execute(sql, args).fetchall()
        return [_entry(row) for row in reversed(rows)]

    def counts(self) -> tuple[int, int]:
        """(conversations, exchanges) logged so far."""
        if not self.exists:
            return 0, 0
        with self._db() as db:
            conversations = db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
            responses = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        return int(conversations), int(responses)


_COLUMNS = (
    "id", "conversation_id", "datetime_utc", "provider", "model", "system", "prompt",
    "response", "reasoning", "finish_reason", "options_json", "duration_ms", "input_tokens",
    "output_tokens",
)  # fmt: skip


_SELECT = (
    "SELECT id, conversation_id, datetime_utc, provider, model, system, prompt, response, "
    "reasoning, finish_reason, options_json, duration_ms, input_tokens, output_tokens "
    "FROM responses"
)


def _entry(row: tuple[Any, ...]) -> Entry:
    values = dict(zip(_COLUMNS, row, strict=True))
    try:
        options = json.loads(values.pop("options_json") or "{}")
    except ValueError:  # written by hand or by a newer hookwire: the rest is still worth showing
        options = {}
    return Entry(**values, options=options if isinstance(options, dict) else {})
