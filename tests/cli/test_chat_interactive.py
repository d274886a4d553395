"""The interactive `hookwire chat`, driven in a real pseudo-terminal with pexpect."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pexpect

from tests.cli.conftest import Spawn

PROMPT = "> "


def chat_bodies(server, session: str | None = None) -> list[dict]:
    return [
        e.body for e in server.journal.entries()
        if e.path == "/v1/chat/completions"
        and (session is None or e.headers.get("x-mock-session") == session)
    ]  # fmt: skip


def provider_headers(config: Path, headers: dict[str, str]) -> None:
    """Headers the openai-compatible provider sends on every call (the config file's table)."""
    config.parent.mkdir(parents=True, exist_ok=True)
    pairs = ", ".join(f'"{k}" = "{v}"' for k, v in headers.items())
    config.write_text(f"[providers.openai-compatible]\nheaders = {{ {pairs} }}\n")


def test_session_history_reset_ctrl_c_and_exit(
    spawn: Spawn, cli_env: dict[str, str], mock_server_factory
) -> None:
    # 20 ms between tokens, and the third chat call of this session (the long answer) stalls
    # after a few chunks until the client leaves: when Ctrl-C is sent the answer is certainly
    # mid-stream, however loaded the machine is.
    srv = mock_server_factory(inter_token_delay=0.02)
    session = uuid.uuid4().hex
    provider_headers(
        Path(cli_env["HOOKWIRE_CONFIG"]),
        {"X-Mock-Session": session, "X-Mock-Fault": "calls=3;stall-after=8"},
    )
    child = spawn(
        "chat", "-p", "openai-compatible", "--base-url", srv.openai_base_url, "-m", "mock-model"
    )
    child.expect_exact("Chatting with mock-model (provider openai-compatible at ")
    child.expect_exact(PROMPT)
    child.sendline("first question")
    child.expect_exact("Echo: first question")
    child.expect_exact(PROMPT)
    child.sendline("second")
    child.expect_exact("Echo: second")
    child.expect_exact(PROMPT)
    # the second turn carried the first one as history
    assert [m["content"] for m in chat_bodies(srv, session)[-1]["messages"]] == [
        "first question", "Echo: first question", "second",
    ]

    child.sendline("/reset")
    child.expect_exact("[history cleared]")
    child.expect_exact(PROMPT)
    child.sendline("/system answer in French")
    child.expect_exact("[system prompt set]")
    child.expect_exact(PROMPT)

    long_prompt = " ".join(f"w{i}" for i in range(300))
    child.sendline(long_prompt)
    child.expect_exact("Echo: w0 w1 w2")  # the answer has begun, and the stall holds it there
    child.sendintr()  # Ctrl-C: stop this answer, keep the session
    child.expect_exact("[answer stopped]")
    child.expect_exact(PROMPT)
    assert child.isalive()

    child.sendline("after")
    child.expect_exact("Echo: after")
    child.expect_exact(PROMPT)
    messages = chat_bodies(srv, session)[-1]["messages"]
    assert messages[0] == {"role": "system", "content": "answer in French"}
    roles = [m["role"] for m in messages[1:]]
    assert roles == ["user", "assistant", "user"]  # reset dropped the first two turns
    partial = messages[2]["content"]
    assert partial.startswith("Echo: w0 w1 w2")
    assert len(partial) < len("Echo: " + long_prompt)  # the answer really was cut short

    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_banner_names_the_mock_and_exit_words_end_the_session(spawn: Spawn) -> None:
    child = spawn("chat")
    child.expect_exact("using the bundled mock model")  # on a terminal, the fallback is said
    child.expect_exact("Chatting with mock-model (provider mock)")
    child.expect_exact(PROMPT)
    child.sendline("hi")
    child.expect_exact("Echo: hi")
    child.expect_exact(PROMPT)
    child.sendline("quit")  # llm's words work too
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_continue_in_a_session_and_ctrl_d(spawn: Spawn, hookwire) -> None:
    assert hookwire("chat", "-p", "mock", "remember me").returncode == 0
    child = spawn("chat", "-c")
    child.expect_exact("Continuing a conversation of 1 earlier turn(s)")
    child.expect_exact(PROMPT)
    child.sendline("and now?")
    child.expect_exact("Echo: and now?")
    child.expect_exact(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    logged = hookwire("logs", "-c", "--json")
    prompts = [e["prompt"] for e in json.loads(logged.stdout)]
    assert prompts == ["remember me", "and now?"]
