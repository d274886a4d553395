"""A local peer server for benchmarks: a bare ASGI app under uvicorn, in a subprocess.

Why bare: a client benchmark should measure the client. This app does the least a server can
(no framework, no routing, no middleware), so the server's share of each round trip is small and
the same for every client measured against it. It runs in its own process so the server's CPU
time is not charged to the client's interpreter (2 cores: one for each).

- ``GET <any path>`` -> ``200 {"ok": true, "method": "GET", "path": ...}`` (JSON)
- ``POST <any path>`` with a JSON body -> ``200`` echoing that body as JSON

Use it as a context manager::

    from _servers import local_server
    with local_server() as url:      # "http://127.0.0.1:PORT"
        ...

or run it on its own: ``python benchmarks/_servers.py [PORT]``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The whole server: JSON for GET, an echo for POST (and for any other method with a body)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["method"] == "GET" or not body:
        payload = json.dumps({"ok": True, "method": scope["method"], "path": scope["path"]})
        body = payload.encode()
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def free_port() -> int:
    """A port the kernel considers free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Return once ``proc`` accepts connections on ``port``; raise if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"benchmark server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"benchmark server did not listen on port {port} within {timeout}s")


@contextlib.contextmanager
def local_server(timeout: float = 15.0) -> Iterator[str]:
    """Start :func:`app` under uvicorn (uvloop, httptools) in a subprocess; yield its URL.

    The process is terminated (then killed if it lingers) when the block exits.
    """
    port = free_port()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_listening(port, proc, timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


@contextlib.contextmanager
def mock_server(*args: str) -> Iterator[str]:
    """``python -m hookwire.mockserver ARGS`` on a free port in a subprocess; yields its /v1 URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hookwire.mockserver", "--port", str(port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port, proc)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def best_of(rounds: int, runs: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Alternate the candidates ``rounds`` times; each one's fastest round in seconds."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv: list[str]) -> None:
    import uvicorn

    port = int(argv[1]) if len(argv) > 1 else 8000
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=2048,
    )


if __name__ == "__main__":
    main(sys.argv)
