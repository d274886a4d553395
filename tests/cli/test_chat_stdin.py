"""`hookwire chat` and stdin, llm's way: piped text is the prompt, joined before an argument."""

from __future__ import annotations

import pexpect

from tests.cli.conftest import Run, Spawn


def last_messages(server) -> list[dict]:
    return [e for e in server.journal.entries() if e.path == "/v1/chat/completions"][-1].body[
        "messages"
    ]


def remote(server) -> tuple[str, ...]:
    return ("-p", "openai-compatible", "--base-url", server.openai_base_url, "-m", "mock-model")


def test_piped_stdin_is_the_prompt_with_no_session_and_no_prompts(hookwire: Run) -> None:
    r = hookwire("chat", input="a prompt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Echo: a prompt\n"  # one answer, no "> " prompt anywhere
    assert r.stderr == ""


def test_piped_stdin_then_the_argument_joined_by_one_space(hookwire: Run, mock_server) -> None:
    notes = "line one\nline two\n"
    r = hookwire("chat", "summarise", *remote(mock_server), input=notes)
    assert r.returncode == 0, r.stderr
    assert last_messages(mock_server) == [{"role": "user", "content": notes + " summarise"}]


def test_system_goes_with_a_piped_prompt(hookwire: Run, mock_server) -> None:
    r = hookwire("chat", "--system", "be brief", *remote(mock_server), input="why?")
    assert r.returncode == 0, r.stderr
    assert last_messages(mock_server) == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "why?"},
    ]


def test_dash_reads_stdin(hookwire: Run, mock_server) -> None:
    r = hookwire("chat", "-", *remote(mock_server), input="from stdin")
    assert r.returncode == 0, r.stderr
    assert last_messages(mock_server) == [{"role": "user", "content": "from stdin"}]


def test_blank_stdin_leaves_the_argument_alone(hookwire: Run, mock_server) -> None:
    r = hookwire("chat", "just this", *remote(mock_server), input="\n  \n")
    assert r.returncode == 0, r.stderr
    assert last_messages(mock_server) == [{"role": "user", "content": "just this"}]


def test_no_prompt_anywhere_is_a_usage_error(hookwire: Run) -> None:
    for args in (("chat",), ("chat", "-")):
        r = hookwire(*args, input="")
        assert r.returncode == 2
        assert r.stderr.startswith("error: no prompt: pass PROMPT, pipe text into stdin")
        assert r.stderr.count("\n") == 1 and r.stdout == ""


def test_dash_on_a_terminal_reads_until_end_of_input(spawn: Spawn) -> None:
    child = spawn("chat", "-p", "mock", "-")
    child.sendline("typed prompt")
    child.sendeof()
    child.expect_exact("Echo: typed prompt")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "> " not in child.before  # a prompt read from stdin opens no session
