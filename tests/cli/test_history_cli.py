"""The chat history: logged to SQLite, continued with -c/--cid, listed and searched with
`hookwire logs`, never holding a key."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

from tests.cli.conftest import Run

KEY = "sk-" + "history-test-0123456789"


def chat_bodies(server) -> list[dict]:
    return [e.body for e in server.journal.entries() if e.path == "/v1/chat/completions"]


def logged(hookwire: Run, *args: str) -> list[dict]:
    r = hookwire("logs", "--json", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_chats_are_logged_in_the_user_data_dir_private(hookwire: Run, logs_db: Path) -> None:
    assert hookwire("chat", "-p", "mock", "--system", "be kind", "hello").returncode == 0
    assert hookwire("logs", "path").stdout.strip() == str(logs_db)
    assert stat.S_IMODE(os.stat(logs_db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(logs_db.parent).st_mode) == 0o700
    [entry] = logged(hookwire)
    assert entry["prompt"] == "hello" and entry["response"] == "Echo: hello"
    assert entry["system"] == "be kind" and entry["provider"] == "mock"
    assert entry["model"] == "mock-model" and entry["finish_reason"] == "stop"


def test_the_environment_variable_moves_the_file(hookwire: Run, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "chats.db"
    env = {"HOOKWIRE_LOGS_PATH": str(elsewhere)}
    assert hookwire("chat", "-p", "mock", "hi", env=env).returncode == 0
    assert hookwire("logs", "path", env=env).stdout.strip() == str(elsewhere)
    assert [e["prompt"] for e in json.loads(hookwire("logs", "--json", env=env).stdout)] == [
        "hi"
    ]


def test_continue_sends_the_conversation_and_keeps_its_model(
    hookwire: Run, mock_server, logs_db: Path
) -> None:
    remote = ("-p", "openai-compatible", "--base-url", mock_server.openai_base_url)
    assert hookwire("chat", *remote, "-m", "mock-model", "-s", "terse", "first").returncode == 0
    r = hookwire("chat", "-c", "second")  # provider, model, server and system come along
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: second\n"
    body = chat_bodies(mock_server)[-1]
    assert body["model"] == "mock-model"
    assert body["messages"] == [
        {"role": "system", "content": "terse"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "second"},
    ]
    entries = logged(hookwire, "-n", "0")
    assert len({e["conversation_id"] for e in entries}) == 1
    cid = entries[0]["conversation_id"]
    # --cid picks a conversation by id, even when another one is newer
    assert hookwire("chat", "-p", "mock", "unrelated").returncode == 0
    assert hookwire("chat", "--cid", cid, "third").returncode == 0
    assert [m["content"] for m in chat_bodies(mock_server)[-1]["messages"]][-2:] == [
        "Echo: second", "third",
    ]
    assert [e["prompt"] for e in logged(hookwire, "--cid", cid, "-n", "0")] == [
        "first", "second", "third",
    ]


def test_continue_with_nothing_to_continue(hookwire: Run, logs_db: Path) -> None:
    r = hookwire("chat", "-c", "hi")
    assert r.returncode == 1
    assert r.stderr == f"error: no conversation to continue: the history at {logs_db} is empty\n"
    unknown = hookwire("chat", "--cid", "nope", "hi")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no conversation found with id=nope")


def test_no_log_and_logs_off(hookwire: Run, logs_db: Path) -> None:
    assert hookwire("chat", "-p", "mock", "-n", "secret plans").returncode == 0
    assert not logs_db.exists() or logged(hookwire) == []
    assert hookwire("logs", "off").stdout.strip() == "Logging is off"
    assert hookwire("chat", "-p", "mock", "also private").returncode == 0
    assert hookwire("chat", "-p", "mock", "--log", "this one").returncode == 0
    assert "Logging is off" in hookwire("logs", "status").stdout
    assert hookwire("logs", "on").returncode == 0
    assert hookwire("chat", "-p", "mock", "back on").returncode == 0
    assert [e["prompt"] for e in logged(hookwire, "-n", "0")] == ["this one", "back on"]
    both = hookwire("chat", "-p", "mock", "--log", "--no-log", "x")
    assert both.returncode == 2 and both.stderr.startswith("error: --no-log and --log cannot")


def test_logs_lists_searches_and_filters(hookwire: Run) -> None:
    for prompt in ("apples and pears", "Pears only", "bananas", "100% sure", "a_b"):
        assert hookwire("chat", "-p", "mock", prompt).returncode == 0
    assert hookwire("chat", "-p", "mock", "-m", "mock-thinking", "pears think").returncode == 0
    assert [e["prompt"] for e in logged(hookwire)] == ["100% sure", "a_b", "pears think"]
    assert len(logged(hookwire, "-n", "0")) == 6
    # every word must match, case-insensitively, in the prompt or the answer
    assert [e["prompt"] for e in logged(hookwire, "-q", "PEARS", "-n", "0")] == [
        "apples and pears", "Pears only", "pears think",
    ]
    assert [e["prompt"] for e in logged(hookwire, "-q", "pears apples")] == ["apples and pears"]
    assert [e["prompt"] for e in logged(hookwire, "-q", "%")] == ["100% sure"]  # no wildcard
    assert [e["prompt"] for e in logged(hookwire, "-q", "_")] == ["a_b"]
    assert [e["prompt"] for e in logged(hookwire, "-m", "mock-thinking")] == ["pears think"]
    assert hookwire("logs", "-r").stdout.strip().startswith("Echo: pears think")
    text = hookwire("logs", "-n", "1").stdout
    assert "## Prompt\n\npears think\n" in text and "Model: **mock-thinking**" in text
    none = hookwire("logs", "-q", "durian")
    assert none.returncode == 0 and none.stdout == "" and "no logged chats match" in none.stderr


def test_no_key_or_password_is_ever_stored(hookwire: Run, mock_server_factory, logs_db: Path):
    srv = mock_server_factory(dialect="openai", api_key=KEY)
    with_userinfo = srv.openai_base_url.replace("http://", "http://alice:pa55word@")
    r = hookwire(
        "chat", "-p", "openai-compatible", "--base-url", with_userinfo, "-m", "mock-model",
        "hello", env={"OPENAI_API_KEY": KEY},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = logs_db.read_bytes()
    assert KEY.encode() not in data and b"pa55word" not in data and b"alice" not in data
    with sqlite3.connect(logs_db) as db:
        [(base_url,)] = db.execute("SELECT base_url FROM conversations").fetchall()
    assert base_url == srv.openai_base_url  # the server is kept, its credentials are not
    status = hookwire("logs", "status").stdout + hookwire("logs").stdout
    assert KEY not in status and "pa55word" not in status


def test_a_broken_history_file(hookwire: Run, logs_db: Path) -> None:
    logs_db.parent.mkdir(parents=True)
    logs_db.write_bytes(b"this is not a database at all" * 100)
    r = hookwire("chat", "-p", "mock", "still answered")
    assert r.returncode == 0 and r.stdout == "Echo: still answered\n"  # the answer comes first
    assert r.stderr.startswith(f"hookwire: not logged: the history file {logs_db} cannot be used")
    listing = hookwire("logs")
    assert listing.returncode == 1 and listing.stderr.count("\n") == 1
    assert listing.stderr.startswith(f"error: the history file {logs_db} cannot be used")
    assert "HOOKWIRE_LOGS_PATH" in listing.stderr
