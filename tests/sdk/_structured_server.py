"""A stand-in chat server whose replies break a schema on purpose, for the re-ask loop.

The bundled mock always answers ``response_format`` with a schema-valid instance and has no way to
script "invalid first, valid second", so this small ASGI app does. It is stateless: the attempt
number is the count of assistant messages in the request (each re-ask appends the bad reply), so
concurrent tests cannot disturb one another.

- ``POST /fix-once/v1/chat/completions``: attempt 1 is not JSON, attempt 2 is valid.
- ``POST /fix-twice/v1/chat/completions``: attempt 1 is not JSON, 2 breaks the schema, 3 is valid.
- ``POST /never/v1/chat/completions``: every attempt breaks the schema (``age`` is a string).

Every request body is kept in ``BODIES`` (path, body) so a test can read what was re-asked.
"""

from __future__ import annotations

import json
from typing import Any

VALID = '{"name": "Ada", "age": 36}'
NOT_JSON = "Sure! Here is the person: name Ada, age 36"
WRONG = '{"name": "Ada", "age": "thirty-six"}'
SCRIPTS = {
    "fix-once": [NOT_JSON, VALID],
    "fix-twice": [NOT_JSON, WRONG, VALID],
    "never": [WRONG],
}
BODIES: list[tuple[str, dict[str, Any]]] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    raw = b""
    more = True
    while more:
        message = await receive()
        raw += message.get("body", b"")
        more = message.get("more_body", False)
    body = json.loads(raw or b"{}")
    BODIES.append((scope["path"], body))
    script = SCRIPTS[scope["path"].split("/")[1]]
    attempt = sum(m.get("role") == "assistant" for m in body.get("messages", []))
    content = script[min(attempt, len(script) - 1)]
    reply = {
        "id": f"c{attempt}",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "stand-in"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    data = json.dumps(reply).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})
