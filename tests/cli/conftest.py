"""Run the real ``hookwire`` console script in a sandboxed home (temp config, data dir, no
keyring), detached from any terminal (``start_new_session``) so "no terminal" is certain;
``spawn`` runs it in a pseudo-terminal instead (pexpect) for what only happens on one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
Spawn = Callable[..., pexpect.spawn]
#: Where the history goes in the sandbox: platformdirs' user data dir under XDG_DATA_HOME.
LOGS_DB = Path(".local", "share", "hookwire", "logs.db")


def hookwire_exe() -> str:
    exe = shutil.which("hookwire") or str(Path(sys.executable).parent / "hookwire")
    if not Path(exe).exists():
        pytest.skip("the hookwire console script is not installed (pip install -e . --no-deps)")
    return exe


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and not k.startswith("HOOKWIRE_")
    }
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / ".config"),
        XDG_DATA_HOME=str(tmp_path / ".local" / "share"),
        HOOKWIRE_CONFIG=str(tmp_path / "hookwire" / "config.toml"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONIOENCODING="utf-8",
    )
    return env


@pytest.fixture
def hookwire(cli_env: dict[str, str]) -> Run:
    exe = hookwire_exe()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env={**cli_env, **(env or {})},
            timeout=timeout,
            check=False,
            start_new_session=True,
        )

    return run


@pytest.fixture
def logs_db(tmp_path: Path) -> Path:
    """The sandbox's history file (it exists once a chat was logged)."""
    return tmp_path / LOGS_DB


@pytest.fixture
def spawn(cli_env: dict[str, str]) -> Iterator[Spawn]:
    """``spawn(*args, env=None)``: ``hookwire`` in a pty; every child is closed afterwards."""
    children: list[pexpect.spawn] = []

    def start(*args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
        child = pexpect.spawn(
            hookwire_exe(), list(args), env={**cli_env, **(env or {})}, encoding="utf-8",
            timeout=60, dimensions=(40, 200),
        )  # fmt: skip
        children.append(child)
        return child

    yield start
    for child in children:
        child.close(force=True)


def split_http(stdout: str) -> tuple[str, dict[str, str], str]:
    """(status line, headers, body) of `hookwire http` output."""
    head, _, body = stdout.partition("\n\n")
    lines = head.splitlines()
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return lines[0], headers, body
