"""`hookwire chat` and `hookwire models` through the console script, against live mock servers."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pexpect

from tests.cli.conftest import Run, Spawn

MOCK_NOTICE = "using the bundled mock model"
SF_KEY = {"SILICONFLOW_API_KEY": "test-" + "placeholder"}


def last_body(server) -> dict:
    entries = [e for e in server.journal.entries() if e.path == "/v1/chat/completions"]
    return entries[-1].body


def test_nothing_configured_uses_the_bundled_mock_quietly_in_scripts(hookwire: Run) -> None:
    r = hookwire("chat", "你好")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: 你好\n"
    assert r.stderr == ""  # stderr is no terminal: no notice in logs and pipelines


def test_the_mock_notice_shows_once_on_a_terminal(spawn: Spawn) -> None:
    child = spawn("chat", "你好")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert child.before.count(MOCK_NOTICE) == 1 and "Echo: 你好" in child.before


def test_choosing_the_mock_silences_the_notice(spawn: Spawn) -> None:
    child = spawn("chat", "hi", env={"HOOKWIRE_PROVIDER": "mock"})
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert MOCK_NOTICE not in child.before and "Echo: hi" in child.before


def test_a_reply_cut_by_max_tokens_says_so_on_stderr(hookwire: Run) -> None:
    for stream in ("--no-stream", "--stream"):
        r = hookwire("chat", "-p", "mock", "one two three four", "--max-tokens", "2", stream)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "Echo: one\n"  # the answer alone on stdout
        assert r.stderr == (
            'hookwire: the answer was cut off at --max-tokens 2 (finish_reason "length"); '
            "raise --max-tokens for a longer one\n"
        )
    whole = hookwire("chat", "-p", "mock", "one two", "--max-tokens", "50")
    assert whole.stderr == ""  # finish_reason "stop": nothing to say


def test_no_server_running_names_base_url_and_the_url_tried(hookwire: Run) -> None:
    with socket.socket() as s:  # bound, never listening: the connection is refused
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
        r = hookwire("chat", "-p", "vllm", "--base-url", url, "hi")
        models = hookwire("models", "-p", "vllm", "--base-url", url)
    for result in (r, models):
        assert result.returncode == 1
        assert result.stderr.startswith("error: could not connect for GET " + url + "/models")
        assert f"Nothing answers at {url}: start the server" in result.stderr
        assert "`hookwire vllm serve MODEL`" in result.stderr and "--base-url" in result.stderr
        assert result.stderr.count("\n") == 1


def test_flags_reach_the_wire(hookwire: Run, mock_server) -> None:
    r = hookwire(
        "chat", "hello", "--provider", "openai-compatible", "--base-url",
        mock_server.openai_base_url, "--model", "mock-model", "--system", "be brief",
        "--temperature", "0.25", "--max-tokens", "50",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: hello\n"
    assert MOCK_NOTICE not in r.stderr
    body = last_body(mock_server)
    assert body["model"] == "mock-model"
    assert body["temperature"] == 0.25 and body["max_tokens"] == 50
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello"},
    ]


def test_stream_with_thinking_keeps_reasoning_apart(hookwire: Run, mock_server_factory) -> None:
    srv = mock_server_factory(dialect="siliconflow")
    r = hookwire(
        "chat", "why", "--stream", "--thinking", "-p", "siliconflow", "--base-url",
        srv.openai_base_url, "-m", "Qwen/Qwen3-8B", env=SF_KEY,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: why\n"  # the answer alone on stdout
    assert "Thinking about: why" in r.stderr  # the reasoning on stderr
    assert last_body(srv)["stream"] is True


def test_no_thinking_turns_it_off_on_the_wire(hookwire: Run, mock_server_factory) -> None:
    srv = mock_server_factory(dialect="siliconflow")
    r = hookwire(
        "chat", "why", "--no-thinking", "-p", "siliconflow", "--base-url", srv.openai_base_url,
        "-m", "Qwen/Qwen3-8B", env=SF_KEY,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: why\n" and "Thinking" not in r.stderr
    assert last_body(srv)["enable_thinking"] is False


def test_missing_key_names_the_variable_and_the_command(hookwire: Run) -> None:
    r = hookwire("chat", "hi", "--provider", "siliconflow")
    assert r.returncode == 1
    assert r.stderr == (
        "error: no API key for siliconflow: set SILICONFLOW_API_KEY or run "
        "`hookwire keys set siliconflow`\n"
    )


def test_stored_key_and_config_file_are_used(
    hookwire: Run, cli_env: dict[str, str], mock_server_factory
) -> None:
    srv = mock_server_factory(dialect="siliconflow", api_key="k-" + "stored-test")
    config = Path(cli_env["HOOKWIRE_CONFIG"])
    config.parent.mkdir(parents=True)
    config.write_text(
        f'provider = "siliconflow"\n[providers.siliconflow]\nbase_url = "{srv.openai_base_url}"\n'
        'model = "Qwen/Qwen3-8B"\n'
    )
    assert hookwire("keys", "set", "siliconflow", input="k-stored-test\n").returncode == 0
    r = hookwire("chat", "hi", "--no-thinking")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: hi\n" and MOCK_NOTICE not in r.stderr
    assert last_body(srv)["model"] == "Qwen/Qwen3-8B"
    # the environment overrides the file, and a flag overrides both
    env = {"HOOKWIRE_MODEL": "mock-model"}
    assert hookwire("chat", "x", env=env).returncode == 0
    assert last_body(srv)["model"] == "mock-model"
    assert hookwire("chat", "x", "-m", "mock-thinking", env=env).returncode == 0
    assert last_body(srv)["model"] == "mock-thinking"


def test_wrong_key_is_one_clear_line(hookwire: Run, mock_server_factory) -> None:
    srv = mock_server_factory(dialect="openai", api_key="right-" + "key")
    r = hookwire(
        "chat", "hi", "-p", "openai-compatible", "--base-url", srv.openai_base_url, "-m", "x",
        env={"OPENAI_API_KEY": "wrong-value"},
    )
    assert r.returncode == 1
    assert r.stderr.startswith("error: 401") and r.stderr.count("\n") == 1
    assert "wrong-value" not in r.stderr


def test_models(hookwire: Run, mock_server_factory) -> None:
    srv = mock_server_factory(dialect="siliconflow")
    r = hookwire(
        "models", "-p", "siliconflow", "--base-url", srv.openai_base_url, "--json", env=SF_KEY
    )
    assert r.returncode == 0, r.stderr
    names = json.loads(r.stdout)
    assert "Qwen/Qwen3-8B" in names and "mock-model" in names
    plain = hookwire("models")  # the bundled mock
    assert plain.stdout.split() == ["mock-model", "mock-thinking"]
