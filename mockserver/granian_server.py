"""granian as the mock's server: a background thread (`GranianThread`) or the foreground (`serve`).

Optional (``pip install 'hookwire[granian]'``); uvicorn stays the default. granian's Rust
runtime does the HTTP work, which can serve more requests per second where cores are to spare
(measure it: ``benchmarks/bench_granian.py``); the app, its journal and its faults are the same
objects as under uvicorn. In a thread, granian's embedded server runs the app on a private
event loop in this process (``LiveServer(config).app`` is the app that serves); in the foreground
(``python -m hookwire.mockserver --server granian``) granian's own worker processes import
``hookwire.mockserver.granian_server:app_from_env``, as uvicorn's do with ``--workers``.

Connection faults. Under uvicorn the mock closes the connection's socket itself
(``hookwire.mockserver.faultio``); granian gives an ASGI app no socket, so `FaultBridge` hands
the app a stand-in whose ``close()`` ends the exchange the one way granian offers: the app
raises after its response began, and granian aborts the connection. What the client sees:

| fault                                 | uvicorn                   | granian                |
|---------------------------------------|---------------------------|------------------------|
| close-after=N mid-body, stall-after   | EOF inside the body       | the same               |
| stall-after=0 (the head, no body yet) | head, then EOF            | the same               |
| stall, keepalive-only, delay          | silence until client goes | the same               |
| reset-after-body, close-after=0 on a  | EOF before any response   | **501** naming the     |
| reply whose head was not yet sent     |                           | fault and uvicorn      |

The last row is what granian cannot do: it writes no response head until the first body bytes
and answers 500 to an app that fails before them, so "closed without a response" cannot be
produced. Rather than a 500 that looks like a server bug, such a request gets a 501 whose body
says which fault needs uvicorn (the journal records it with status 0, as a drop).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import json
import logging
import os
import socket
import threading
import time
import weakref
from pathlib import Path
from typing import Any, cast

from hookwire.mockserver import faultio

__all__ = ["FaultBridge", "GranianThread", "available", "serve"]

GRACE = 2  # seconds open responses get on stop, as uvicorn's timeout_graceful_shutdown
_QUIET = ("Embedded server is experimental", "Starting granian", "Listening at", "Shutting down")


def available() -> bool:
    try:
        import granian  # noqa: F401
    except ImportError:
        return False
    return True


def _require() -> None:
    if not available():
        raise ImportError(
            "server='granian' needs granian (not installed): pip install 'hookwire[granian]'"
        )


class _Aborted(Exception):
    """Raised to granian after a deliberate drop: it aborts the connection."""


class _Quiet(logging.Filter):
    """Drop granian's banner lines and its report of a deliberate drop (granian's Rust side
    logs the app's traceback as text, through ``_granian``'s handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if f"{_Aborted.__name__}: mock fault" in message:
            return False
        if message.startswith("Application callable") and "CancelledError" in message:
            return False  # a response still open when the stop's grace ran out
        return not any(message.startswith(q) for q in _QUIET)


_QUIET_FILTER = _Quiet()


def _quiet_logs() -> None:
    """On the handlers: records of granian's child loggers reach them without the parent's
    own filters. (granian's dictConfig makes new handlers for each server: call it after.)"""
    for handler in logging.getLogger("_granian").handlers:
        if _QUIET_FILTER not in handler.filters:
            handler.addFilter(_QUIET_FILTER)


class _Exchange:
    """One request under granian. ``send`` is bound here and the exchange is its own
    ``transport``, so ``faultio.socket_of(send)`` finds something to close: ``close()`` marks
    the exchange dropped and raises ``ConnectionDropped`` at once (there is no client to wait
    for: the connection ends only when the bridge aborts it), which the app catches as the end
    of a deliberate drop."""

    __slots__ = ("_send", "body_sent", "dropped", "started", "transport")

    def __init__(self, send: Any) -> None:
        self._send = send
        self.transport = self
        self.dropped = False
        self.started: dict[str, Any] | None = None
        self.body_sent = False

    def close(self) -> None:
        self.dropped = True
        raise faultio.ConnectionDropped("mock fault: connection dropped")

    abort = close

    def is_closing(self) -> bool:
        return self.dropped

    async def send(self, message: dict[str, Any]) -> None:
        if self.dropped:
            return
        if not self.body_sent:
            kind = message["type"]
            if kind == "http.response.body":
                self.body_sent = True
            elif kind == "http.response.start":
                self.started = message
        await self._send(message)

    async def finish(self, fault: str) -> None:
        """After the app returned from a drop: abort the connection, or say why not."""
        if self.started is not None:
            if not self.body_sent:  # granian holds the head back until body bytes come
                await self._send({"type": "http.response.body", "body": b"", "more_body": True})
            raise _Aborted("mock fault: connection dropped")
        body = json.dumps(
            {
                "error": f"mock fault {fault!r} closes the connection before any response: "
                "granian cannot do that; serve with server='uvicorn' (--server uvicorn)"
            }
        ).encode()
        await self._send(
            {
                "type": "http.response.start",
                "status": 501,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-mock-unsupported", b"granian"),
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": body})


class FaultBridge:
    """ASGI middleware for granian: the mock's connection faults on a connection it cannot
    touch (see the module table). Lifespan and anything not HTTP pass straight through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # journal, scenario, reset... of the mock app
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(send)
        await self.app(scope, receive, exchange.send)
        if exchange.dropped:
            fault = ""
            for name, value in scope.get("headers", []):
                if name.lower() == b"x-mock-fault":
                    fault = value.decode("latin-1")
            await exchange.finish(fault or "(scenario rule)")


def _server_class() -> type:
    from granian.server.embed import Server

    class PortServer(Server):
        """The embedded server, with its listening socket built here so port 0 works and the
        bound port is known (granian otherwise builds one socket per worker from the spec)."""

        bound: tuple[str, int] | None = None

        def _init_shared_socket(self) -> None:
            super()._init_shared_socket()  # type: ignore[no-untyped-call]
            if self._ssp is not None:  # Linux: a spec, built by each worker; build it once
                self._shd = self._ssp.build()
                self._sfd = self._shd.get_fd()
                self._ssp = None
            probe = socket.socket(fileno=os.dup(cast(int, self._sfd)))
            try:
                self.bound = probe.getsockname()[:2]
            finally:
                probe.close()

    return PortServer


def _shutdown_noise(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """granian's embedded server sets a future twice when its grace runs out: not an error."""
    if isinstance(context.get("exception"), asyncio.InvalidStateError):
        return
    loop.default_exception_handler(context)


_RUNNING: weakref.WeakSet[GranianThread] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """A server still running at exit is stopped first: granian's runtime thread, alive while
    the interpreter finalizes, would abort the process."""
    for runner in list(_RUNNING):
        runner.stop(GRACE + 1)


class GranianThread:
    """granian's embedded server on a daemon thread, serving ``app`` on ``host:port``."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_ca_certs: str | None = None,
        client_verify: bool = False,
    ) -> None:
        _require()
        from granian.constants import HTTPModes, Interfaces
        from granian.log import LogLevels

        kwargs: dict[str, Any] = {}
        if ssl_certfile:
            kwargs.update(ssl_cert=Path(ssl_certfile), ssl_key=Path(ssl_keyfile or ssl_certfile))
            if ssl_ca_certs:
                kwargs.update(ssl_ca=Path(ssl_ca_certs), ssl_client_verify=client_verify)
        self.server: Any = _server_class()(
            FaultBridge(app),
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            http=HTTPModes.http1,
            websockets=False,
            log_level=LogLevels.warning,
            log_access=False,
            **kwargs,
        )
        # uvicorn's grace for open responses (runner.uvicorn_kwargs); then they are cancelled
        self.server.workers_kill_timeout = GRACE
        _quiet_logs()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bound: tuple[str, int] | None = None
        self.error: BaseException | None = None

    @property
    def bound(self) -> tuple[str, int] | None:
        if self.server is None:
            return self._bound
        return self.server.bound  # type: ignore[no-any-return]

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(_shutdown_noise)
        try:
            loop.run_until_complete(self.server.serve())
        except BaseException as exc:  # reported to the starting thread
            self.error = exc
        finally:
            with contextlib.suppress(Exception):
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def start(self, name: str) -> threading.Thread:
        _RUNNING.add(self)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self._thread

    def wait_started(self, deadline: float) -> bool:
        """True once the socket accepts connections; False if the thread died or time ran out."""
        thread = self._thread
        while thread is not None and thread.is_alive() and time.monotonic() < deadline:
            bound = self.bound
            if bound is not None and self.server.wrks:
                with contextlib.suppress(OSError), socket.create_connection(bound, timeout=1):
                    return True
            time.sleep(0.005)
        return False

    def stop(self, timeout: float) -> None:
        _RUNNING.discard(self)
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed: it stopped
            loop.call_soon_threadsafe(self.server.stop)
        thread.join(timeout)
        # granian's Rust runtime (one OS thread) lives until the worker's objects, which sit in
        # reference cycles, are collected; alive at interpreter exit, it aborts the process.
        self._bound = self.server.bound
        self.server = self._loop = self._thread = None
        if isinstance(self.error, TimeoutError):  # the grace ran out; its traceback holds them
            self.error = None
        gc.collect()


def serve(config: Any) -> None:
    """``python -m hookwire.mockserver --server granian``: granian in the foreground,
    ``config.workers`` worker processes, until SIGINT/SIGTERM (granian's graceful shutdown)."""
    _require()
    from dataclasses import asdict

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    from hookwire.mockserver.server import ENV_CONFIG

    scenario = None if config.scenario is None else str(config.scenario)
    os.environ[ENV_CONFIG] = json.dumps({**asdict(config), "scenario": scenario})
    Granian(
        "hookwire.mockserver.granian_server:app_from_env",
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=False,
        workers=config.workers,
        factory=True,
        log_level=LogLevels.warning,
        log_access=False,
        workers_kill_timeout=GRACE,
    ).serve()


def app_from_env() -> FaultBridge:
    """The app of a granian worker process: the config travels as JSON in the environment."""
    from hookwire.mockserver.server import app_from_env as mock_app_from_env

    _quiet_logs()
    return FaultBridge(mock_app_from_env())
