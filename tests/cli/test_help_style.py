"""One help style and one usage-error line across every `hookwire` command."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli.conftest import Run


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


def _tree() -> list[tuple[tuple[str, ...], Any]]:
    from hookwire.cli._app import build_command

    return list(_walk(build_command()))


PATHS = [path for path, _ in _tree()]


def test_the_tree_has_the_commands_the_docs_promise() -> None:
    names = {" ".join(path) for path in PATHS}
    assert {"chat", "http", "logs", "logs path", "mock serve", "vllm serve", "keys set"} <= names


def test_every_option_and_argument_has_help_text() -> None:
    missing = [
        (" ".join(path) or "hookwire", param.name)
        for path, command in _tree()
        for param in command.params
        if not getattr(param, "help", None)
    ]
    assert missing == []


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "hookwire")
def test_help_is_one_style_with_no_type_on_flags(hookwire: Run, path: tuple[str, ...]) -> None:
    r = hookwire(*path, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.lstrip().startswith(f"Usage: {' '.join(('hookwire', *path))} ")
    assert "usage:" not in r.stdout  # no argparse help anywhere
    assert "<bool>" not in r.stdout  # a flag takes no value, so it shows no type
    assert "Show this message and exit." in r.stdout  # -h/--help, everywhere


USAGE_ERRORS = [
    ("chat --bogus", "chat", "no such option: --bogus"),
    ("chat --max-tokens lots hi", "chat", "invalid value for '--max-tokens'"),
    ("http", "http", "missing argument '[METHOD] URL [ITEM]'"),
    ("http :1/get --pretty sparkly", "http", "invalid value for '--pretty'"),
    ("http :1/get --print xyz", "http", "--print takes letters from HBhbm, not 'xyz'"),
    ("logs -n -1", "logs", "invalid value for '--count'"),
    ("keys set", "keys set", "missing argument 'PROVIDER'"),
    ("mock serve --port 99999", "mock serve", "invalid value for '--port'"),
    ("vllm serve m -tp 0", "vllm serve", "invalid value for '--tensor-parallel-size'"),
]


@pytest.mark.parametrize(
    ("args", "command", "message"), USAGE_ERRORS, ids=[u[0] for u in USAGE_ERRORS]
)
def test_usage_errors_are_one_error_line(hookwire: Run, args: str, command: str, message: str):
    r = hookwire(*args.split())
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"error: {message}"), r.stderr
    assert r.stderr.count("\n") == 1 and "Error:" not in r.stderr
    if "--print" not in args:  # click's own errors name the help to read
        assert r.stderr.endswith(f"(see 'hookwire {command} --help')\n"), r.stderr
