"""The ASGI app: exact-path dispatch, auth, faults, journal and metrics around every endpoint.

Why not a starlette `Starlette` app with middleware: each middleware layer costs a coroutine
and a scope copy per request, and the benchmark target is half a bare ASGI hello-world. So
`MockApp.__call__` does the cross-cutting work inline, dispatches exact paths with one dict
lookup, and only falls back to starlette `Route` matching for parametrized paths. Every lookup
is a `RouteTable` built from one route list (`hookwire.mockserver.routes.ROUTES` by default).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from hookwire.mockserver import faultio
from hookwire.mockserver.config import MockConfig
from hookwire.mockserver.context import RequestContext
from hookwire.mockserver.control import CONTROL_PREFIX, not_found
from hookwire.mockserver.faults import FaultSyntaxError, Rule, parse_header, pick
from hookwire.mockserver.httpbin._json import cors_headers
from hookwire.mockserver.journal import Journal, JournalEntry
from hookwire.mockserver.limits import OFF_LOOP_BYTES, LimitExceeded
from hookwire.mockserver.metrics import Metrics
from hookwire.mockserver.openai.dialects import DIALECTS
from hookwire.mockserver.replies import json_reply
from hookwire.mockserver.routes import ROUTES
from hookwire.mockserver.routing import Route, RouteTable, method_not_allowed
from hookwire.mockserver.scenario import Scenario, load_rules
from hookwire.mockserver.sse import DONE

Scope = dict[str, Any]
_SLICE = 64  # close-after on a fixed-length body: count it in 64-byte slices
_GET_OR_HEAD = frozenset({"GET", "HEAD"})


class MockApp:
    """The mock server as a raw ASGI callable; `state` holds journal, scenario, metrics.

    `routes` replaces the route table (default `hookwire.mockserver.routes.ROUTES`), e.g. a
    copy with an endpoint added; a table that cannot be served raises `RouteError`.
    """

    def __init__(
        self, config: MockConfig | None = None, routes: Iterable[Route] | None = None
    ) -> None:
        self.config = config = config or MockConfig()
        self.dialect = DIALECTS[config.dialect]
        own = () if config.only_models else self.dialect.models
        self.models = frozenset((*own, *config.models))
        rules = load_rules(config.scenario) if config.scenario else []
        self.state = State()
        self.state.config = config
        self.state.journal = Journal(max_depth=config.limits.json_depth)
        self.state.scenario = Scenario(rules)
        self.state.metrics = Metrics()
        # Direct references: starlette's State goes through __getattr__ on every access.
        self._journal: Journal = self.state.journal
        self._scenario: Scenario = self.state.scenario
        self._metrics: Metrics = self.state.metrics
        # `routes.routes` is the table itself; the rest of `routes` is derived from it
        self.routes = table = RouteTable(ROUTES if routes is None else routes)
        # the table's lookups as attributes: the hot path reads each once per request
        self._control = table.control
        self._exact = table.exact
        self._fast = table.fast
        self._params = table.params
        self._api_key = f"Bearer {config.api_key}".encode() if config.api_key else None

    @property
    def journal(self) -> Journal:
        return self._journal

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def calls(self) -> dict[tuple[str, str], int]:
        """Calls so far per (X-Mock-Session, path), as the journal counts them."""
        return self._journal.calls

    def use(self, journal: Journal, scenario: Scenario) -> None:
        """Serve with this journal and scenario (a store shared by worker processes)."""
        self.state.journal = self._journal = journal
        self.state.scenario = self._scenario = scenario

    def reset(self) -> None:
        """Forget journal entries and call counters (scenario rules stay)."""
        self._journal.clear()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            control = self._control.get(path)
            if control is not None:
                await control(self, scope, receive, send)
            elif path.startswith(CONTROL_PREFIX):
                await not_found(self, scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        fault_values: list[str] = []
        session = ""
        reply_tokens: bytes | None = None
        auth: bytes | None = None
        length = 0
        for key, value in scope["headers"]:
            if key.startswith(b"x-mock-"):
                if key == b"x-mock-fault":
                    fault_values.append(value.decode("latin-1"))
                elif key == b"x-mock-session":
                    session = value.decode("latin-1")
                elif key == b"x-mock-reply-tokens":
                    reply_tokens = value
            elif key == b"authorization":
                auth = value
            elif key == b"content-length" and value.isdigit():
                length = int(value)

        body = b""
        too_large = length > self.config.max_body
        if not too_large:
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # client left before sending its body
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.config.max_body:
                    too_large = True
                    break
        record = self._journal.record
        query = scope["query_string"].decode("latin-1")
        if len(body) < OFF_LOOP_BYTES:
            entry = record(method, path, query, scope["headers"], body)
        else:  # a big body is decoded to be redacted: not on the event loop
            entry = await asyncio.to_thread(record, method, path, query, scope["headers"], body)
        is_api = path.startswith("/v1/")
        if is_api:
            self._journal.note_api_request(entry)
        number = self._journal.next_call(session, path)

        ctx = RequestContext(self.config, self.dialect, self.models, self._journal, entry, body)
        transport = faultio.socket_of(send)
        status = 500
        label = path
        try:
            early = None
            if too_large or fault_values or reply_tokens is not None or (is_api and self._api_key):
                early = self._early_reply(
                    ctx, is_api, too_large, auth, (fault_values, number), reply_tokens
                )
            rule = ctx.rule
            if early is None:
                if rule is None and self._scenario:
                    rule = ctx.rule = self._scenario.match(method, path, session, number)
                if rule is not None:
                    entry.fault = rule.describe()
                    entry.rule = rule
                    early = await self._fault_reply(ctx, rule, is_api, transport, receive, send)
            if early is not None:
                status = entry.status = early.status_code
                await early(scope, receive, send)
                return
            out = send if rule is None else _FaultSend(send, receive, transport, rule)
            fast = self._fast.get(path) if method in _GET_OR_HEAD else None
            if fast is not None:
                status, headers, payload = fast(scope)
                entry.status = status
                await out({"type": "http.response.start", "status": status, "headers": headers})
                await out({"type": "http.response.body", "body": payload})
                return
            scope["mock"] = ctx
            recorder = _Recorder(out, entry)
            try:
                label = await self._dispatch(scope, _replay(body, receive), recorder)
            finally:
                status = recorder.status
        except faultio.ConnectionDropped:
            entry.status = status = 0  # journaled as "no complete response"
            if transport is None:
                raise  # in-process: hookwire.mockserver.testing turns it into httpx's error
        finally:
            self._metrics.observe(method, label, status, time.perf_counter() - started)
            finish = self._journal.finish
            if finish is not None:
                finish(entry)

    def _early_reply(
        self,
        ctx: RequestContext,
        is_api: bool,
        too_large: bool,
        auth: bytes | None,
        faults: tuple[list[str], int],
        reply_tokens: bytes | None,
    ) -> Response | None:
        """Replies decided before any endpoint runs: 413, 401, bad mock headers."""
        if too_large:
            return self._error(is_api, 413, f"Request body exceeds {self.config.max_body} bytes.")
        if is_api and self._api_key is not None:
            if auth is None:
                return self._error(True, 401, "You didn't provide an API key.")
            if not hmac.compare_digest(auth, self._api_key):
                return self._error(True, 401, "Incorrect API key provided.")
        try:
            if faults[0]:
                ctx.rule = pick(parse_header(faults[0]), faults[1])
            if reply_tokens is not None:
                cap = self.config.limits.reply_tokens
                # (a digit string longer than int() converts is over any cap as well)
                if not reply_tokens.isdigit() or len(reply_tokens) > 4000:
                    raise FaultSyntaxError(f"X-Mock-Reply-Tokens must be an integer 0..{cap}")
                count = int(reply_tokens)
                if count > cap:
                    over = LimitExceeded("X-Mock-Reply-Tokens", count, "reply_tokens", cap)
                    return self._error(is_api, 400, str(over))
                ctx.reply_tokens = count
        except FaultSyntaxError as exc:
            return self._error(is_api, 400, f"X-Mock-Fault: {exc}")
        if ctx.rule is not None and ctx.entry is not None:
            ctx.entry.fault = ctx.rule.describe()
            ctx.entry.rule = ctx.rule
        return None

    def _error(self, is_api: bool, status: int, message: str, headers: Any = None) -> Response:
        if is_api:
            return json_reply(self.dialect.error_body(status, message), status, headers)
        return json_reply({"error": message}, status, headers)

    async def _fault_reply(
        self, ctx: RequestContext, rule: Rule, is_api: bool, transport: Any, receive: Any, send: Any
    ) -> Response | None:
        """Apply delay and whole-response faults; None lets the endpoint run."""
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.reset_after_body or rule.close_after == 0:
            await faultio.drop(transport, receive)
            raise faultio.ConnectionDropped("dropped")
        if rule.keepalive_only:
            await faultio.keepalive_only(transport, receive, send)
            return _Sent(200)
        if rule.status is not None:
            headers = _retry_headers(rule)
            if is_api:
                return self._error(True, rule.status, f"mock fault: status {rule.status}", headers)
            return Response(b"", rule.status, headers=headers)
        return None

    async def _dispatch(self, scope: Scope, receive: Any, send: Any) -> str:
        """Run the endpoint for this path; returns the metrics label (route template)."""
        path: str = scope["path"]
        target = self._exact.get(path)
        if target is not None:
            view = target.views.get(scope["method"], target.fallback)
            if view is None:
                response = method_not_allowed(scope)
            else:
                response = await view(Request(scope, receive))
            await response(scope, receive, send)
            return path
        partial = None
        for route, label in self._params:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope.update(child)
                await route.handle(scope, receive, send)
                return label
            if match is Match.PARTIAL and partial is None:
                partial = (route, child, label)
        if partial is not None:
            route, child, label = partial
            scope.update(child)
            await route.handle(scope, receive, send)
            return label
        is_api = path.startswith("/v1/")
        response = self._error(is_api, 404, f"No route for {path}.")
        if not is_api:  # httpbin's side sends its CORS headers on every response, 404s too
            response.raw_headers.extend(cors_headers(scope))
        await response(scope, receive, send)
        return "(unmatched)"


def _retry_headers(rule: Rule) -> dict[str, str]:
    headers = {}
    if rule.retry_after is not None:
        headers["retry-after"] = rule.retry_after
    if rule.retry_after_ms is not None:
        headers["retry-after-ms"] = rule.retry_after_ms
    return headers


def _replay(body: bytes, receive: Any) -> Any:
    """A `receive` that hands the already-read body to the endpoint, then defers to the real one."""
    pending = [True]

    async def replay() -> dict[str, Any]:
        if pending:
            pending.clear()
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # type: ignore[no-any-return]

    return replay


class _Sent(Response):
    """Marks a response that a fault already wrote to the wire."""

    def __init__(self, status: int) -> None:
        self.status_code = status

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


class _Recorder:
    """Wraps `send` to note the response status in the journal (and for the metrics), and for
    an event stream (an endpoint set `entry.stream`) whether it sent [DONE] or an error event."""

    __slots__ = ("_entry", "_send", "status")

    def __init__(self, send: Any, entry: JournalEntry) -> None:
        self._send = send
        self._entry = entry
        self.status = 500

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self._entry.status = self.status = message["status"]
        elif self._entry.stream is not None:
            body = message.get("body", b"")
            if body == DONE:
                self._entry.sent("done")
            elif body.startswith(b'data: {"error"'):
                self._entry.sent("error-event")
        await self._send(message)


class _FaultSend:
    """Wraps `send` for a faulted request: retry headers, close-after and stall-after."""

    def __init__(self, send: Any, receive: Any, transport: Any, rule: Rule) -> None:
        self._send = send
        self._receive = receive
        self._transport = transport
        self._rule = rule
        self._chunks = 0
        self._fixed_length = False
        # uvicorn's transport lives on the original send; keep it reachable for socket_of().
        self.transport = transport

    async def __call__(self, message: dict[str, Any]) -> None:
        rule = self._rule
        if message["type"] == "http.response.start":
            extra = [(k.encode(), v.encode()) for k, v in _retry_headers(rule).items()]
            headers = list(message.get("headers", [])) + extra
            self._fixed_length = any(k.lower() == b"content-length" for k, _ in headers)
            await self._send({**message, "headers": headers})
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        body = message.get("body", b"")
        if self._fixed_length and rule.close_after is not None and body:
            slices = [body[i : i + _SLICE] for i in range(0, len(body), _SLICE)]
            for i, piece in enumerate(slices):
                more = message.get("more_body", False) or i < len(slices) - 1
                await self._one({"type": "http.response.body", "body": piece, "more_body": more})
            return
        await self._one(message)

    async def _one(self, message: dict[str, Any]) -> None:
        rule = self._rule
        if rule.close_after is not None and self._chunks >= rule.close_after:
            await faultio.drop(self._transport, self._receive)
            raise faultio.ConnectionDropped("close-after")
        if rule.stall_after is not None and self._chunks >= rule.stall_after:
            await faultio.stall(self._transport, self._receive)
            await faultio.drop(self._transport, self._receive)
            raise faultio.ConnectionDropped("stall-after")
        self._chunks += 1
        await self._send(message)


def create_app(config: MockConfig | None = None, routes: Iterable[Route] | None = None) -> MockApp:
    """Build the mock server's ASGI app for `config` (default: openai dialect, no key); with
    `config.cassette`, the app that answers from that cassette (`hookwire.mockserver.cassette`)."""
    if config is not None and config.cassette is not None:
        from hookwire.mockserver.cassette.app import CassetteApp

        return CassetteApp(config, routes)
    return MockApp(config, routes)
