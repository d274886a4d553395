"""`hookwire http --print/-p` and `--pretty`, httpie's way; the terminal defaults in a pty."""

from __future__ import annotations

import io
import json
import subprocess

import httpx
import pexpect
import pytest

from tests.cli.conftest import Run, Spawn, hookwire_exe


def test_redirected_default_is_the_body_byte_for_byte(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/json")
    assert r.returncode == 0, r.stderr
    raw = hookwire("http", "--pretty", "none", mock_server.url + "/json").stdout
    assert r.stdout == raw and not r.stdout.startswith("HTTP/")
    assert json.loads(r.stdout)


@pytest.mark.parametrize(
    ("letters", "starts", "has_request_line", "has_status", "has_body"),
    [
        ("H", "GET /get HTTP/1.1", True, False, False),
        ("h", "HTTP/1.1 200 OK", False, True, False),
        ("b", "{", False, False, True),
        ("Hh", "GET /get HTTP/1.1", True, True, False),
        ("hb", "HTTP/1.1 200 OK", False, True, True),
    ],
)
def test_print_letters_choose_the_parts(
    hookwire: Run, mock_server, letters: str, starts: str, has_request_line: bool,
    has_status: bool, has_body: bool,
) -> None:
    r = hookwire("http", "-p", letters, mock_server.url + "/get")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == starts
    assert ("GET /get HTTP/1.1" in lines) == has_request_line
    assert ("HTTP/1.1 200 OK" in lines) == has_status
    assert ('"url": "' in r.stdout) == has_body


def test_print_big_b_is_the_request_body_alone(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "-p", "B", mock_server.url + "/post", "a=1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": "1"}


def test_meta_and_headers_shortcut(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "-p", "m", mock_server.url + "/get")
    assert r.stdout.startswith("Elapsed time: ") and r.stdout.rstrip().endswith("s")
    h = hookwire("http", "--headers", mock_server.url + "/get")
    assert h.stdout.startswith("HTTP/1.1 200 OK\n") and '"url"' not in h.stdout


def test_pretty_format_sorts_and_indents(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "--pretty", "format", "-p", "hb", mock_server.url + "/get", "b==2")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")
    names = [line.split(":")[0].lower() for line in head.splitlines()[1:]]
    assert names == sorted(names)
    assert body.startswith('{\n    "args": {\n        "b": "2"\n    },')  # indent 4, keys sorted
    assert "\x1b[" not in r.stdout  # format alone: no colours


def test_pretty_colors_colours_even_when_redirected(hookwire: Run, mock_server) -> None:
    r = hookwire("http", "--pretty", "colors", "-p", "hb", mock_server.url + "/get")
    assert r.returncode == 0, r.stderr
    assert "\x1b[" in r.stdout  # asked for explicitly: coloured despite NO_COLOR and a pipe
    plain = hookwire("http", "--pretty", "none", "-p", "hb", mock_server.url + "/get")
    assert "\x1b[" not in plain.stdout


def test_binary_body_goes_out_raw_when_redirected(cli_env: dict[str, str], mock_server):
    # `hookwire http URL > file.png` saves the image, byte for byte
    r = subprocess.run(
        [hookwire_exe(), "http", mock_server.url + "/image/png"], capture_output=True,
        env=cli_env, timeout=30, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    with httpx.Client() as client:
        assert r.stdout == client.get(mock_server.url + "/image/png").content
    assert r.stdout.startswith(b"\x89PNG")


def test_on_a_terminal_the_default_is_headers_and_formatted_body(spawn: Spawn, mock_server):
    child = spawn("http", mock_server.url + "/get", "z==1")
    child.expect_exact("HTTP/1.1 200 OK")  # hb on a terminal
    child.expect_exact('{\r\n    "args": {\r\n        "z": "1"')  # formatted: indent 4
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_on_a_terminal_binary_is_a_note(spawn: Spawn, mock_server) -> None:
    child = spawn("http", mock_server.url + "/image/png")
    child.expect_exact("NOTE: binary data not shown in terminal")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_password_with_no_terminal_fails_and_says_how(hookwire: Run, mock_server) -> None:
    r = hookwire("http", mock_server.url + "/basic-auth/u/p", "--auth", "u")
    assert r.returncode == 1
    assert r.stderr == (
        "error: no password for 'u' and no terminal to ask on: pass it as --auth 'u:PASSWORD'\n"
    )


def test_password_is_asked_on_the_terminal(spawn: Spawn, mock_server) -> None:
    child = spawn("http", "-b", mock_server.url + "/basic-auth/u/p", "--auth", "u")
    child.logfile_read = seen = io.StringIO()  # everything the terminal showed
    child.expect_exact("password for u: ")
    child.sendline("p")
    child.expect_exact('"authenticated": true')
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "password for u: p" not in seen.getvalue()  # typed with echo off
