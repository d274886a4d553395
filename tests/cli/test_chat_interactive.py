"""The interactive `hookwire chat`, driven in a real pseudo-terminal with pexpect."""

from __future__ import annotations

import pexpect

from tests.cli.conftest import hookwire_exe

PROMPT = "> "


def chat_bodies(server) -> list[dict]:
    return [e.body for e in server.journal.entries() if e.path == "/v1/chat/completions"]


def test_session_history_reset_ctrl_c_and_exit(cli_env: dict[str, str], mock_server_factory):
    # 20 ms between tokens: a 300-word echo takes seconds, long enough to interrupt it
    srv = mock_server_factory(inter_token_delay=0.02)
    srv.reset()
    child = pexpect.spawn(
        hookwire_exe(),
        ["chat", "-p", "openai-compatible", "--base-url", srv.openai_base_url, "-m", "mock-model"],
        env=cli_env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 200),
    )
    try:
        child.expect_exact(PROMPT)
        child.sendline("first question")
        child.expect_exact("Echo: first question")
        child.expect_exact(PROMPT)
        child.sendline("second")
        child.expect_exact("Echo: second")
        child.expect_exact(PROMPT)
        # the second turn carried the first one as history
        assert [m["content"] for m in chat_bodies(srv)[-1]["messages"]] == [
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
        child.expect_exact("Echo: w0 w1 w2")  # the answer has begun streaming
        child.sendintr()  # Ctrl-C: stop this answer, keep the session
        child.expect_exact("[answer stopped]")
        child.expect_exact(PROMPT)
        assert child.isalive()

        child.sendline("after")
        child.expect_exact("Echo: after")
        child.expect_exact(PROMPT)
        messages = chat_bodies(srv)[-1]["messages"]
        assert messages[0] == {"role": "system", "content": "answer in French"}
        roles = [m["role"] for m in messages[1:]]
        assert roles == ["user", "assistant", "user"]  # reset dropped the first two turns
        partial = messages[2]["content"]
        assert partial.startswith("Echo: w0 w1 w2")
        assert len(partial) < len("Echo: " + long_prompt)  # the answer really was cut short

        child.sendline("/exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
