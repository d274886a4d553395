"""Run the real ``hookwire`` console script in a sandboxed home (temp config, no keyring)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


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
        )

    return run


def split_http(stdout: str) -> tuple[str, dict[str, str], str]:
    """(status line, headers, body) of `hookwire http` output."""
    head, _, body = stdout.partition("\n\n")
    lines = head.splitlines()
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return lines[0], headers, body
