"""The control endpoints, `/metrics` and `/__mock__/*` (never journaled themselves).

- `GET /__mock__/journal` -> JSON list of entries (redacted when recorded: `mockserver.redact`)
- `DELETE /__mock__/journal` -> clears journal and call counters
- `GET /__mock__/last` -> the last JSON body received on /v1/* (redacted the same way)
- `POST /__mock__/scenario` (a rule as JSON) / `DELETE /__mock__/scenario`
- `GET /__mock__/metrics` = `GET /metrics` (neither is journaled or counted)

Each is a view `(app, scope, receive, send)`; which path and method serves which is listed in
`hookwire.mockserver.routes`. Any other path under `/__mock__/` is `not_found`, never journaled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import Scope

from hookwire.mockserver.faults import FaultSyntaxError
from hookwire.mockserver.limits import loads
from hookwire.mockserver.replies import json_reply

if TYPE_CHECKING:
    from hookwire.mockserver.app import MockApp

CONTROL_PREFIX = "/__mock__/"


async def _read(receive: Any) -> bytes:
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > 1024 * 1024:
            break
    return body


async def metrics(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    # sent raw, as Prometheus scrapers expect: no Response object on the scrape path
    body = app.state.metrics.render().encode()
    headers = [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def metrics_page(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    response = Response(app.state.metrics.render(), media_type="text/plain; version=0.0.4")
    await response(scope, receive, send)


async def journal(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    await json_reply([e.to_dict() for e in app.journal.entries()])(scope, receive, send)


async def clear_journal(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    app.reset()
    await Response(b"", 204)(scope, receive, send)


async def last(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    # the journal redacted the body when it recorded it: nothing secret is left to hide
    await json_reply(app.journal.last_json)(scope, receive, send)


async def add_rule(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    response: Response
    try:
        rule = loads(await _read(receive), app.config.limits.json_depth)
        if not isinstance(rule, dict):
            raise FaultSyntaxError("a rule must be a JSON object")
        app.scenario.add(rule)
        response = Response(b"", 204)
    except (ValueError, FaultSyntaxError) as exc:
        response = json_reply({"error": str(exc)}, 400)
    await response(scope, receive, send)


async def clear_scenario(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    app.scenario.clear()
    await Response(b"", 204)(scope, receive, send)


async def not_found(app: MockApp, scope: Scope, receive: Any, send: Any) -> None:
    """A control path or method the table does not list."""
    message = f"no control endpoint {scope['method']} {scope['path']}"
    await json_reply({"error": message}, 404)(scope, receive, send)
