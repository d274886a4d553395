"""Helpers for tests that start a real server process (``hookwire mock serve``, ``python -m
mockserver``) and must wait until it answers before poking it.

Usage::

    from tests._serve_process import free_port, wait_until_serving

    port = free_port()
    proc = subprocess.Popen([..., "--port", str(port)], stdout=PIPE, stderr=PIPE)
    try:
        r = wait_until_serving(proc, f"http://127.0.0.1:{port}/v1/models")
        ...
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

The caller still owns the process: these helpers never stop it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import httpx


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it; a race is possible but rare)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(
    proc: subprocess.Popen[Any], url: str, *, timeout_s: float = 15
) -> httpx.Response:
    """GET ``url`` until it answers, and return that response.

    Fails the test (``AssertionError``) once ``proc`` has exited, or after ``timeout_s`` seconds
    of connection errors; the message carries the process's stderr when it has exited (read only
    then, so a live process with a full pipe cannot hang the test here).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if proc.poll() is not None:
                raise AssertionError(f"exited {proc.returncode}: {_stderr_of(proc)!r}") from None
            assert time.monotonic() < deadline, f"{url} not answering after {timeout_s} s"
            time.sleep(0.05)


def _stderr_of(proc: subprocess.Popen[Any]) -> object:
    """What an exited process wrote to its piped stderr (None when stderr was not piped)."""
    return proc.stderr.read() if proc.stderr is not None else None
