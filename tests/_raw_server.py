"""A raw loopback socket server for replies the mock server will not produce on purpose.

Some tests need bytes no well-behaved server sends (a malformed header line, a gzip bomb) or a
TLS peer that fails a handshake the way OpenSSL servers do. ``RawServer`` owns the boring part:
a socket bound to ``127.0.0.1:0``, a daemon thread accepting connections (each with a 2 s
timeout), and a clean stop. What happens on a connection is the test's ``handler``.

Usage::

    from tests._raw_server import RawServer, replying

    with RawServer(replying(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")) as server:
        client.get(server.url + "/")

    # or, for a module-scoped fixture: server = RawServer(...); yield server; server.close()

- ``handler(conn)`` runs on the server thread once per accepted connection; the server closes
  ``conn`` afterwards and swallows ``OSError`` from it (a client that hangs up early is normal
  here, and must not kill the accept loop).
- ``tls_context=ssl_server_context`` wraps each connection before the handler sees it, with the
  handshake *not yet run* (``do_handshake_on_connect=False``): the handler calls
  ``conn.do_handshake()`` itself and can record how it fails. ``url`` is then ``https://``.
- ``replying(response)`` is the common handler: read the request head, write ``response``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable

#: Runs once per accepted connection, on the server thread.
Handler = Callable[[socket.socket], None]


def read_head(conn: socket.socket) -> bytes:
    """Read until the end of the request head (or EOF); the body, if any, is left unread."""
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(65536)
        if not data:
            break
        head += data
    return head


def replying(response: bytes) -> Handler:
    """A handler that reads the request head, writes ``response`` and lets the server close."""

    def handle(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(response)

    return handle


class RawServer:
    """A thread accepting loopback connections and passing each to ``handler``.

    ``url`` is ``http://127.0.0.1:<port>`` (``https://`` with ``tls_context``), no trailing
    slash. Use it as a context manager, or call :meth:`close` (safe to call twice).
    """

    def __init__(self, handler: Handler, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._tls_context = tls_context
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)  # so the loop sees the stop event promptly
        scheme = "https" if tls_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            if self._tls_context is not None:
                conn = self._tls_context.wrap_socket(
                    conn, server_side=True, do_handshake_on_connect=False
                )
            with conn, contextlib.suppress(OSError):
                self._handler(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
