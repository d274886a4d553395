"""The `/__mock__/*` control endpoints (never journaled themselves).

- `GET /__mock__/journal` -> JSON list of entries (secret headers already redacted)
- `DELETE /__mock__/journal` -> clears journal and call counters
- `GET /__mock__/last` -> the last JSON body received on /v1/* (secret-looking keys redacted)
- `POST /__mock__/scenario` (a rule as JSON) / `DELETE /__mock__/scenario`
- `GET /__mock__/metrics` = `GET /metrics` (neither is journaled or counted)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from hookwire.mockserver.faults import FaultSyntaxError
from hookwire.mockserver.journal import REDACTED
from hookwire.mockserver.replies import json_reply

if TYPE_CHECKING:
    from hookwire.mockserver.app import MockApp

CONTROL_PREFIX = "/__mock__/"
_SECRET_KEYS = frozenset({"api_key", "apikey", "api-key", "authorization", "password", "secret"})


def redact_json(value: Any) -> Any:
    """A copy of `value` with secret-looking keys' values replaced, at any depth."""
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in _SECRET_KEYS else redact_json(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


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


async def handle_control(app: MockApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
    path, method = scope["path"], scope["method"]
    response: Response
    if path == "/__mock__/journal" and method == "GET":
        response = json_reply([e.to_dict() for e in app.journal.entries()])
    elif path == "/__mock__/journal" and method == "DELETE":
        app.reset()
        response = Response(b"", 204)
    elif path == "/__mock__/last" and method == "GET":
        response = json_reply(redact_json(app.journal.last_json))
    elif path == "/__mock__/metrics" and method == "GET":
        response = Response(app.state.metrics.render(), media_type="text/plain; version=0.0.4")
    elif path == "/__mock__/scenario" and method == "POST":
        try:
            rule = json.loads(await _read(receive))
            if not isinstance(rule, dict):
                raise FaultSyntaxError("a rule must be a JSON object")
            app.scenario.add(rule)
            response = Response(b"", 204)
        except (ValueError, FaultSyntaxError) as exc:
            response = json_reply({"error": str(exc)}, 400)
    elif path == "/__mock__/scenario" and method == "DELETE":
        app.scenario.clear()
        response = Response(b"", 204)
    else:
        response = json_reply({"error": f"no control endpoint {method} {path}"}, 404)
    await response(scope, receive, send)
