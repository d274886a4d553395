"""The ``cassette`` transport: records real traffic through another transport, replays it offline.

Three ways to use it (docs/cassettes.md is the guide)::

    # 1. by name: the cassette's path and options in transport_options
    hookwire.Client(transport="cassette", transport_options={"cassette": "f.json", "mode": "once"})

    # 2. every client made in a block (no transport= of its own) goes through one cassette
    from hookwire.plugins.transports.cassette import use_cassette
    with use_cassette("f.json", mode="once"):
        hookwire.LLM("openai", base_url=...).chat("hi")

    # 3. an instance: CassetteTransport("f.json", mode="none") (AsyncCassetteTransport for async)

Recording hands the request to the inner transport (``inner=``, default: the transport the
client would otherwise have used) and keeps the response body as the raw byte chunks that
transport delivered, already decoded, with no parsing: the SDK's SSE decoder reads the replay
exactly as it read the original. Replaying answers from the file with no network and no inner
transport at all. An unmatched request raises :class:`hookwire.errors.CassetteError` naming the
closest recorded request and how it differs.

Options (``transport_options`` keys, or keyword arguments): ``cassette`` (a path, or a
``hookwire.mockserver.cassette.Cassette``), ``mode`` (``none``, ``once``, ``new_episodes``,
``all``; default ``once``), ``inner`` (a transport name), ``match_on``, ``ignore_fields``,
``scrubber``, ``allow_playback_repeats``, ``record_timing`` (keep each chunk's time offset) and
``replay_timing`` (wait those offsets again on replay).

Boundary note: the file format, scrubbing and matching live in the mock server package's
standard-library-only module ``hookwire.mockserver.cassette``, so that ``hookwire mock serve
--cassette`` and this transport read one format. This plugin imports that module (and only
that one) lazily, on first use; like the ``mock`` provider starting the server, it is the one
exception to "plugins never import the mock server". Nothing of the SDK's protocol code (SSE,
reasoning) is shared with the mock: a cassette holds bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from hookwire.errors import CassetteError, ConfigError
from hookwire.plugin import (
    AsyncBaseTransport,
    BaseTransport,
    Headers,
    PluginHost,
    Request,
    Response,
    TransportOptions,
    TransportRegister,
    get_plugin_host,
    hookimpl,
)

if TYPE_CHECKING:
    from hookwire.mockserver.cassette import Cassette, Interaction, RecordedRequest

NAME = "cassette"
_CASSETTE_MODULE = "hookwire.mockserver.cassette"
#: Headers not repeated on replay: the body was stored decoded, and its framing was the wire's.
_DROP_ON_REPLAY = frozenset({"content-encoding", "transfer-encoding"})
_OPTION_NAMES = frozenset(
    {"cassette", "mode", "record_mode", "inner", "match_on", "ignore_fields", "scrubber",
     "allow_playback_repeats", "record_timing", "replay_timing"}
)
#: The cassettes open by path, with how many transports and blocks hold each (see _acquire).
_open: dict[tuple[str, str], tuple[Cassette, int]] = {}
_open_lock = threading.Lock()


def _cassettes() -> Any:
    import hookwire.mockserver.cassette as module

    return module


def open_cassette(
    path: str | os.PathLike[str],
    *,
    mode: str = "once",
    match_on: Sequence[Any] | None = None,
    ignore_fields: Sequence[str] | None = None,
    scrubber: Any = None,
    allow_playback_repeats: bool = False,
    record_timing: bool = False,
) -> Cassette:
    """A ``Cassette`` for ``path``, its options checked (a ``ConfigError`` names the file)."""
    module = _cassettes()
    kwargs: dict[str, Any] = {
        "mode": mode,
        "scrubber": scrubber,
        "allow_playback_repeats": allow_playback_repeats,
        "record_timing": record_timing,
    }
    if match_on is not None:
        kwargs["match_on"] = match_on
    if ignore_fields is not None:
        kwargs["ignore_fields"] = ignore_fields
    try:
        return module.Cassette(path, **kwargs)  # type: ignore[no-any-return]
    except (ValueError, TypeError) as exc:  # a bad mode, rule or unreadable file
        raise ConfigError(f"cassette {os.fspath(path)!r}: {exc}") from None


def _acquire(path: str | os.PathLike[str], **options: Any) -> Cassette:
    """The cassette open for ``path``, shared while something holds it: a sync and an async
    client (an LLM's two faces) then record into one list instead of overwriting each other's
    file. Once every holder has let go (``_release``), the next one reads the file afresh."""
    key = (os.path.abspath(os.fspath(path)), str(options.get("mode", "once")))
    with _open_lock:
        held = _open.get(key)
        if held is not None:
            _open[key] = (held[0], held[1] + 1)
            return held[0]
        cassette = open_cassette(path, **options)
        _open[key] = (cassette, 1)
        return cassette


def _release(cassette: Cassette) -> None:
    with _open_lock:
        for key, (held, count) in list(_open.items()):
            if held is cassette:
                if count <= 1:
                    del _open[key]
                else:
                    _open[key] = (held, count - 1)
                return


@contextlib.contextmanager
def use_cassette(
    cassette: str | os.PathLike[str] | Cassette, **options: Any
) -> Iterator[Cassette]:
    """Route every client created in the block without a ``transport=`` of its own through
    ``cassette`` (a path and ``open_cassette`` options, or a ``Cassette``); yields it."""
    module = _cassettes()
    if not isinstance(cassette, (str, os.PathLike)):
        if options:
            raise ConfigError("use_cassette(Cassette(...)) takes no options: give them to it")
        with module.use(cassette) as active:
            yield active
        return
    opened = _acquire(cassette, **options)
    try:
        with module.use(opened) as active:
            yield active
    finally:
        _release(opened)


# -- the two transports ---------------------------------------------------------------------


class _Base:
    """What the sync and async faces share: options, the cassette, matching, replay."""

    _is_async = False

    def __init__(
        self,
        cassette: str | os.PathLike[str] | Cassette | None = None,
        *,
        mode: str = "once",
        inner: str | BaseTransport | AsyncBaseTransport | None = None,
        match_on: Sequence[Any] | None = None,
        ignore_fields: Sequence[str] | None = None,
        scrubber: Any = None,
        allow_playback_repeats: bool = False,
        record_timing: bool = False,
        replay_timing: bool = False,
        options: TransportOptions | None = None,
        host: PluginHost | None = None,
    ) -> None:
        module = _cassettes()
        self._held = False  # this transport opened the cassette, and lets go of it on close
        if cassette is None:
            cassette = cast("Cassette | None", module.active())
            if cassette is None:
                raise ConfigError(
                    "the cassette transport needs a cassette: transport_options={'cassette': "
                    "PATH}, CassetteTransport(PATH), or a block under use_cassette(PATH)"
                )
        elif isinstance(cassette, (str, os.PathLike)):
            cassette = _acquire(
                cassette,
                mode=mode,
                match_on=match_on,
                ignore_fields=ignore_fields,
                scrubber=scrubber,
                allow_playback_repeats=allow_playback_repeats,
                record_timing=record_timing,
            )
            self._held = True
        self.cassette: Cassette = cassette
        self.replay_timing = replay_timing
        self._inner_spec = inner
        self._inner: Any = None if isinstance(inner, (str, type(None))) else inner
        self._options = options or TransportOptions()
        self._host = host
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, *, options: TransportOptions, host: PluginHost) -> Any:
        """The registered factory: every option comes from ``transport_options``."""
        extra = {k: v for k, v in options.extra.items() if k in _OPTION_NAMES}
        if "record_mode" in extra:
            extra["mode"] = extra.pop("record_mode")
        return cls(**extra, options=options, host=host)

    def _inner_transport(self) -> Any:
        with self._lock:
            if self._inner is None:
                host = self._host or get_plugin_host()
                name = self._inner_spec
                if not isinstance(name, str):
                    name = _default_inner(host, is_async=self._is_async)
                if name == NAME:
                    raise ConfigError("a cassette transport cannot record through another one")
                self._inner = host.transport_factory(name, is_async=self._is_async)(self._options)
            return self._inner

    def _lookup(self, request: Request, body: bytes) -> tuple[RecordedRequest, Interaction | None]:
        module = _cassettes()
        live = module.RecordedRequest(request.method, request.url, request.headers.multi_items(),
                                      body)
        try:
            return live, self.cassette.lookup(live)
        except module.CassetteMismatch as exc:
            closest = None
            if exc.closest is not None:
                closest = {"method": exc.closest.request.method, "uri": exc.closest.request.uri}
            raise CassetteError(
                exc.message, request=request, closest=closest, differences=exc.differences
            ) from None

    def _replayed(self, item: Interaction, request: Request, stream: Any) -> Response:
        recorded = item.response
        pairs = [(k, v) for k, v in recorded.headers if k.lower() not in _DROP_ON_REPLAY]
        if recorded.chunks is None and any(k.lower() == "content-length" for k, _ in pairs):
            # what the body is now: scrubbing may have shortened it since it was measured
            pairs = [(k, v) for k, v in pairs if k.lower() != "content-length"]
            pairs.append(("Content-Length", str(len(recorded.body))))
        headers = Headers(pairs)
        return Response(
            recorded.status,
            headers=headers,
            stream=stream,
            request=request,
            reason_phrase=recorded.reason,
            http_version=recorded.http_version,
        )

    def _recorded_live(
        self, live: RecordedRequest, request: Request, response: Response, recording: type
    ) -> Response:
        """The live response, its body recorded as it is read (``_SyncRecording`` or
        ``_AsyncRecording``, the face's own)."""
        stream = recording(response, lambda chunks, offsets: self._record(
            live, response, chunks, offsets))
        return Response(
            response.status_code,
            headers=response.headers,
            stream=stream,
            request=request,
            reason_phrase=response.reason_phrase,
            http_version=response.http_version,
        )

    def _let_go(self) -> None:
        if self._held:
            self._held = False
            _release(self.cassette)

    def _offsets(self, item: Interaction) -> list[float] | None:
        return item.response.offsets if self.replay_timing else None

    def _record(
        self, live: RecordedRequest, response: Response, chunks: list[bytes], offsets: list[float]
    ) -> None:
        module = _cassettes()
        pairs = response.headers.multi_items()
        names = {k.lower() for k, _ in pairs}
        decoded = "content-encoding" in names  # the inner transport handed over decoded bytes
        drop = {"content-encoding", "transfer-encoding"}
        if decoded:
            drop.add("content-length")
        headers = [(k, v) for k, v in pairs if k.lower() not in drop]
        content_type = (response.headers.get("content-type") or "").lower()
        streamed = "content-length" not in names or any(
            kind in content_type for kind in ("event-stream", "ndjson", "jsonl")
        )
        recorded = module.RecordedResponse(
            response.status_code,
            response.reason_phrase,
            headers,
            b"" if streamed else b"".join(chunks),
            list(chunks) if streamed else None,
            list(offsets) if streamed else None,
            response.http_version,
        )
        self.cassette.record(module.Interaction(live, recorded))


def _default_inner(host: PluginHost, *, is_async: bool) -> str:
    """The transport a client would use were no cassette active (this plugin's answer left out)."""
    me = sys.modules[__name__]
    caller = host.pm.subset_hook_caller("hookwire_default_transport", remove_plugins=[me])
    name = caller(is_async=is_async)
    if name and name != NAME:
        return str(name)
    for entry in host.transports().values():
        if entry.name != NAME and entry.face(is_async=is_async) is not None:
            return entry.name
    raise ConfigError(f"no {'async' if is_async else 'sync'} transport to record through")


class CassetteTransport(_Base, BaseTransport):
    """The sync face: ``CassetteTransport("f.json", mode="once")``."""

    def handle_request(self, request: Request) -> Response:
        body = request.read()
        live, item = self._lookup(request, body)
        if item is not None:
            return self._replayed(item, request, _SyncReplay(item.response.pieces,
                                                             self._offsets(item)))
        response = self._inner_transport().handle_request(request)
        return self._recorded_live(live, request, response, _SyncRecording)

    def close(self) -> None:
        self.cassette.save()
        self._let_go()
        if self._inner is not None:
            self._inner.close()


class AsyncCassetteTransport(_Base, AsyncBaseTransport):
    """The async face: ``AsyncCassetteTransport("f.json", mode="once")``."""

    _is_async = True

    async def handle_async_request(self, request: Request) -> Response:
        if request.content is None and request.stream is not None:
            request.content = b"".join([chunk async for chunk in request.aiter_body()])
            request.stream = None
        body = request.content or b""
        live, item = self._lookup(request, body)
        if item is not None:
            return self._replayed(item, request, _AsyncReplay(item.response.pieces,
                                                              self._offsets(item)))
        response = await self._inner_transport().handle_async_request(request)
        return self._recorded_live(live, request, response, _AsyncRecording)

    async def aclose(self) -> None:
        self.cassette.save()
        self._let_go()
        if self._inner is not None:
            await self._inner.aclose()


# -- body streams ---------------------------------------------------------------------------


class _SyncReplay:
    def __init__(self, pieces: list[bytes], offsets: list[float] | None) -> None:
        self._pieces = pieces
        self._offsets = offsets

    def __iter__(self) -> Iterator[bytes]:
        previous = 0.0
        for i, piece in enumerate(self._pieces):
            if self._offsets is not None:
                time.sleep(max(0.0, self._offsets[i] - previous))
                previous = self._offsets[i]
            yield piece

    def close(self) -> None:
        pass


class _AsyncReplay:
    def __init__(self, pieces: list[bytes], offsets: list[float] | None) -> None:
        self._pieces = pieces
        self._offsets = offsets

    async def __aiter__(self) -> AsyncIterator[bytes]:
        previous = 0.0
        for i, piece in enumerate(self._pieces):
            if self._offsets is not None:
                await asyncio.sleep(max(0.0, self._offsets[i] - previous))
                previous = self._offsets[i]
            yield piece

    async def aclose(self) -> None:
        pass


class _Recorder:
    """Collects the chunks of a live body and records them once, when the body ends or is
    closed. Closed early, a body of known length is read to its end first (a replay must not
    answer half of it); a stream keeps what arrived. A body cut short by an error is not
    recorded: replaying half an answer would hide the failure."""

    def __init__(self, response: Response, done: Any) -> None:
        self._response = response
        self._done = done
        self._started = time.monotonic()
        self.chunks: list[bytes] = []
        self.offsets: list[float] = []
        self._finished = False
        content_type = (response.headers.get("content-type") or "").lower()
        self.sized = "content-length" in response.headers and "event-stream" not in content_type
        self._it: Any = None

    def _add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.offsets.append(time.monotonic() - self._started)

    def _finish(self, failed: bool = False) -> None:
        if not self._finished:
            self._finished = True
            if not failed:
                self._done(self.chunks, self.offsets)


class _SyncRecording(_Recorder):
    def __iter__(self) -> Iterator[bytes]:
        if self._it is None:
            self._it = iter(self._response.iter_raw())
        try:
            for chunk in self._it:
                self._add(chunk)
                yield chunk
        except Exception:
            self._finish(failed=True)
            raise
        self._finish()

    def close(self) -> None:
        try:
            if not self._finished and self.sized:
                for chunk in self._it if self._it is not None else self._response.iter_raw():
                    self._add(chunk)
        except Exception:
            self._finish(failed=True)
            raise
        finally:
            self._response.close()
        self._finish()


class _AsyncRecording(_Recorder):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._it is None:
            self._it = self._response.aiter_raw().__aiter__()
        try:
            async for chunk in self._it:
                self._add(chunk)
                yield chunk
        except Exception:
            self._finish(failed=True)
            raise
        self._finish()

    async def aclose(self) -> None:
        try:
            if not self._finished and self.sized:
                it = self._it if self._it is not None else self._response.aiter_raw()
                async for chunk in it:
                    self._add(chunk)
        except Exception:
            self._finish(failed=True)
            raise
        finally:
            await self._response.aclose()
        self._finish()


# -- registration -----------------------------------------------------------------------------


@hookimpl
def hookwire_register_transports(register: TransportRegister) -> None:
    register(NAME, sync=CassetteTransport.from_options, async_=AsyncCassetteTransport.from_options)


@hookimpl(tryfirst=True)
def hookwire_default_transport(is_async: bool) -> str | None:
    """``cassette`` while a cassette is active (``use_cassette``, the pytest marker), else no
    answer. Looks only in ``sys.modules``: a program that never used a cassette imports nothing."""
    module = sys.modules.get(_CASSETTE_MODULE)
    if module is not None and module.active() is not None:
        return NAME
    return None
