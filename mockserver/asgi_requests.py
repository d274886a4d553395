"""A ``requests`` adapter that runs an ASGI app in-process: no socket, the body as it is made.

Mount it on a session (or hand it to hookwire's requests transport) and requests to that prefix
never touch the network::

    session = requests.Session()
    session.mount("http://mockserver.invalid", ASGIAdapter(create_app()))
    session.get("http://mockserver.invalid/get").json()

The app runs on a private event loop thread (one per adapter, started on first use, stopped by
``close()``). Each request is one task; what it sends reaches the caller through a queue, so a
streamed body (SSE) is read chunk by chunk as the app produces it, under the read timeout. The
response's ``raw`` is a urllib3 ``HTTPResponse``, so ``iter_content``, content decoding, cookies
and redirects work as with ``HTTPAdapter``; the request gets the headers ``http.client`` and
urllib3 would add on the wire (``Host``, ``Accept-Encoding: identity``, ``Content-Length`` or
``Transfer-Encoding: chunked``) and a response without ``Content-Length`` is marked chunked, as
uvicorn would send it.

The mock's connection faults behave as over a socket: the app's ``send`` carries a stand-in for
uvicorn's transport (``hookwire.mockserver.faultio.socket_of`` finds it), so the mock closes
"the connection" and stalls as it would under uvicorn:

| fault                              | what the caller sees                                      |
|------------------------------------|-----------------------------------------------------------|
| reset-after-body, close-after=0    | ``requests.ConnectionError`` (RemoteDisconnected)         |
| close-after=N mid-body             | ``ChunkedEncodingError`` (IncompleteRead) while reading    |
| stall-after, keepalive-only, delay | ``ReadTimeout`` once the read timeout passes; no timeout: |
|                                    | the wait is the mock's own (60 s at most), as on a socket  |

What differs from a socket: no TLS (``verify``/``cert`` are ignored), no proxies, no connect
phase (the connect timeout is unused), and the read timeout applies to each wait for the next
piece of the response, head and body alike.
"""

from __future__ import annotations

import asyncio
import http
import http.client
import io
import logging
import queue
import threading
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import requests.adapters
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPHeaderDict
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.response import HTTPResponse

__all__ = ["ASGIAdapter"]

log = logging.getLogger(__name__)

_START, _BODY, _END, _DROP = "start", "body", "end", "drop"
_BODYLESS = {"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"}


class _Exchange:
    """One request's state, shared by the app's task (loop thread) and the reader (caller)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, head: bool = False) -> None:
        self.loop = loop
        self.head = head  # a HEAD reply's body never goes out (uvicorn drops it too)
        self.items: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.gone = asyncio.Event()  # the client went away (set on the loop)
        self.started = self.ended = self.dropped = False
        self.closed = False

    # -- the app's side (loop thread) ------------------------------------------------------

    def drop(self) -> None:
        """The app closed the connection: the reader sees EOF, the app a disconnect."""
        if not self.ended and not self.dropped:
            self.dropped = True
            self.items.put((_DROP,))
        self.gone.set()

    # -- the caller's side -----------------------------------------------------------------

    def close(self) -> None:
        """The caller is done with the response (read, closed early, or timed out)."""
        if not self.closed:
            self.closed = True
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.gone.set)

    def next(self, timeout: float | None) -> tuple[Any, ...]:
        """The next thing the app sent; ``queue.Empty`` when ``timeout`` passes first."""
        return self.items.get(timeout=timeout)


class _Transport:
    """What ``faultio`` takes for uvicorn's asyncio transport: closing it drops the exchange."""

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def close(self) -> None:
        self._exchange.drop()

    abort = close

    def is_closing(self) -> bool:
        return self._exchange.dropped or self._exchange.gone.is_set()


class _Connection:
    """The app's ``send`` (bound here, so ``send.__self__.transport`` is the stand-in)."""

    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange
        self.transport = _Transport(exchange)

    async def send(self, message: Mapping[str, Any]) -> None:
        ex = self.exchange
        if ex.dropped or ex.ended or ex.gone.is_set():
            return  # as uvicorn: nothing more goes out once the client has left
        kind = message["type"]
        if kind == "http.response.start" and not ex.started:
            ex.started = True
            ex.items.put((_START, message["status"], list(message.get("headers", []))))
        elif kind == "http.response.body" and ex.started:
            body = bytes(message.get("body", b""))
            if body and not ex.head:
                ex.items.put((_BODY, body))
            if not message.get("more_body", False):
                ex.ended = True
                ex.items.put((_END,))


class _Body(io.RawIOBase):
    """The response body as urllib3 reads it: blocks for the app's next chunk (read timeout),
    EOF at the end, ``IncompleteRead`` where the app dropped the connection."""

    def __init__(self, exchange: _Exchange, timeout: float | None) -> None:
        super().__init__()
        self._exchange = exchange
        self._timeout = timeout
        self._buffer = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._buffer and not self._eof:
            try:
                item = self._exchange.next(self._timeout)
            except queue.Empty:
                raise TimeoutError("read timed out") from None
            if item[0] == _BODY:
                self._buffer = item[1]
            elif item[0] == _END:
                self._eof = True
            else:  # _DROP
                self._eof = True
                raise http.client.IncompleteRead(b"")

    def read1(self, size: int = -1) -> bytes:
        self._fill()
        size = len(self._buffer) if size is None or size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self.read1(size)
        parts = []
        while chunk := self.read1():
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._exchange.close()
        super().close()


class _Original:
    """The ``_original_response`` requests reads cookies from (``.msg``) and urllib3 closes."""

    def __init__(self, headers: list[tuple[str, str]], body: _Body) -> None:
        self.msg = http.client.HTTPMessage()
        for name, value in headers:
            self.msg[name] = value
        self._body = body

    def close(self) -> None:
        self._body.close()

    def isclosed(self) -> bool:
        return self._body.closed


class _LoopThread:
    """A private event loop on a daemon thread, started on first use."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self.loop.run_forever, name="mockserver-asgi-requests", daemon=True
                )
                self._thread.start()
            return self.loop

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        loop = self.start()

        def create() -> None:
            task = loop.create_task(coro)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        loop.call_soon_threadsafe(create)

    def close(self) -> None:
        with self._lock:
            loop, thread = self.loop, self._thread
            self.loop = self._thread = None
        if loop is None or thread is None:
            return

        async def cancel_all() -> None:
            tasks = [t for t in self.tasks if not t.done()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        return timeout[1]  # type: ignore[no-any-return]
    if hasattr(timeout, "read_timeout"):  # urllib3 Timeout
        value = timeout.read_timeout
        return value if isinstance(value, (int, float)) else None
    return timeout  # type: ignore[no-any-return]


def _body_bytes(body: Any) -> tuple[bytes, bool]:
    """The request body as bytes, and whether it went chunked (an iterable without a length)."""
    if body is None:
        return b"", False
    if isinstance(body, str):
        return body.encode("utf-8"), False
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), False
    if hasattr(body, "read"):
        data = body.read()
        return (data.encode("utf-8") if isinstance(data, str) else bytes(data)), False
    if isinstance(body, Iterable):
        parts = [p.encode("utf-8") if isinstance(p, str) else bytes(p) for p in body]
        return b"".join(parts), True
    raise TypeError(f"cannot send a request body of type {type(body).__name__}")


class ASGIAdapter(requests.adapters.BaseAdapter):
    """Send requests into ``app`` (an ASGI callable) on a private event loop thread."""

    def __init__(self, app: Any, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        super().__init__()
        self.app = app
        self.client = client
        self._loop = _LoopThread()
        self._closed = False

    def _scope(self, request: requests.PreparedRequest, body: bytes, chunked: bool) -> Any:
        url = urlsplit(request.url or "")
        if url.scheme not in ("http", "https") or not url.hostname:
            raise requests.exceptions.InvalidURL(f"not an http(s) URL: {request.url!r}")
        default = 443 if url.scheme == "https" else 80
        port = url.port or default
        headers = [(k.lower(), str(v)) for k, v in request.headers.items()]
        names = {k for k, _ in headers}
        extra = []
        if "host" not in names:
            host = url.hostname if url.port in (None, default) else f"{url.hostname}:{url.port}"
            extra.append(("host", host))
        if "accept-encoding" not in names:
            extra.append(("accept-encoding", "identity"))
        if "user-agent" not in names:
            extra.append(("user-agent", "python-urllib3/2"))
        if "content-length" not in names and "transfer-encoding" not in names:
            if chunked:
                headers.append(("transfer-encoding", "chunked"))
            elif body or (request.method or "GET").upper() not in _BODYLESS:
                headers.append(("content-length", str(len(body))))
        raw_path = url.path or "/"
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": (request.method or "GET").upper(),
            "scheme": url.scheme,
            "path": unquote(raw_path),
            "raw_path": raw_path.encode("latin-1", "replace"),
            "root_path": "",
            "query_string": url.query.encode("latin-1", "replace"),
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra + headers],
            "client": self.client,
            "server": (url.hostname, port),
            "extensions": {},
        }

    async def _run(self, scope: Any, body: bytes, exchange: _Exchange) -> None:
        pending = [True]

        async def receive() -> dict[str, Any]:
            if pending:
                pending.clear()
                return {"type": "http.request", "body": body, "more_body": False}
            await exchange.gone.wait()
            return {"type": "http.disconnect"}

        connection = _Connection(exchange)
        try:
            await self.app(scope, receive, connection.send)
        except asyncio.CancelledError:
            exchange.drop()
            raise
        except Exception:
            log.exception("Exception in ASGI application (in-process requests adapter)")
            if not exchange.started:
                self._internal_error(exchange)
        if not exchange.started and not exchange.dropped:
            self._internal_error(exchange)  # the app returned without a response
        if not exchange.ended:
            exchange.drop()  # as uvicorn: an unfinished response ends the connection

    @staticmethod
    def _internal_error(exchange: _Exchange) -> None:
        exchange.started = exchange.ended = True
        text = b"Internal Server Error"
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")]
        exchange.items.put((_START, 500, headers))
        exchange.items.put((_BODY, text))
        exchange.items.put((_END,))

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """Run the app for ``request``; returns once the response head is there."""
        if self._closed:
            raise requests.exceptions.ConnectionError(
                "the ASGI adapter was closed", request=request
            )
        body, chunked = _body_bytes(request.body)
        scope = self._scope(request, body, chunked)
        read = _read_timeout(timeout)
        loop = self._loop.start()
        exchange = _Exchange(loop, head=scope["method"] == "HEAD")
        self._loop.spawn(self._run(scope, body, exchange))
        try:
            item = exchange.next(read)
        except queue.Empty:
            exchange.close()
            reason = ReadTimeoutError(None, request.url, f"Read timed out. (read timeout={read})")  # type: ignore[arg-type]
            raise requests.exceptions.ReadTimeout(reason, request=request) from None
        if item[0] != _START:  # dropped before any response
            exchange.close()
            closed = http.client.RemoteDisconnected("Remote end closed connection without response")
            error = ProtocolError("Connection aborted.", closed)
            raise requests.exceptions.ConnectionError(error, request=request)
        return self.build_response(request, item[1], item[2], _Body(exchange, read))

    def build_response(
        self, request: requests.PreparedRequest, status: int, raw_headers: Any, body: _Body
    ) -> requests.Response:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers]
        names = {k.lower() for k, _ in headers}
        framed = "content-length" in names or "transfer-encoding" in names
        bodyless = request.method == "HEAD" or status < 200 or status in (204, 304)
        if not framed and not bodyless:
            headers.append(("transfer-encoding", "chunked"))  # what uvicorn would send
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        raw = HTTPResponse(
            body=body,
            headers=HTTPHeaderDict(headers),
            status=status,
            version=11,
            version_string="HTTP/1.1",
            reason=reason,
            preload_content=False,
            decode_content=False,
            original_response=_Original(headers, body),  # type: ignore[arg-type]
            request_method=request.method,
            request_url=request.url,
        )
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = reason
        url = request.url or ""
        response.url = url.decode("utf-8") if isinstance(url, bytes) else url
        extract_cookies_to_jar(response.cookies, request, raw)  # type: ignore[no-untyped-call]
        response.request = request
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Stop the loop thread (responses still open see the connection dropped)."""
        self._closed = True
        self._loop.close()
