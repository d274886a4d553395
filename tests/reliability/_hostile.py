"""A small hostile ASGI server for the cases the mock server does not script.

- ``GET /bomb/{gzip|deflate}``: a decompression bomb, ``BOMB_MB`` MiB of zeros compressed to
  about a thousandth of that, served with a true ``Content-Encoding``.
- ``POST /shape/{name}/v1/chat/completions``: "Hel", "lo", then one event of valid JSON in the
  wrong shape (``SHAPES[name]``), then ``[DONE]``.
- ``POST /after-done/v1/chat/completions``: "Hello", ``[DONE]``, then more content events.
- ``POST /think-2507/v1/chat/completions``: a Qwen3 Thinking-2507 model behind a server with no
  reasoning parser: the template opened ``<think>`` in the prompt, so the reply is
  ``plan a reply</think>Hi there`` in ``content`` (streamed with the tag cut in two, or whole).
- ``POST /v1/chat/completions``: a chat stream that sends a role chunk and two tokens, then only
  ``: keep-alive`` comments (every 50 ms, until the client leaves or 30 s pass), to prove the
  idle timer ignores comments once tokens have flowed (the mock's ``keepalive-only`` fault sends
  comments from the start, which is the first-token deadline's case).

Written here, not in ``mockserver/``: these are attacks on a client, not behaviours a mock of a
real provider should offer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import zlib
from typing import Any

BOMB_MB = 100
_CHUNK = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "hostile"}


@functools.lru_cache(maxsize=2)
def bomb(encoding: str) -> bytes:
    wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(BOMB_MB)]
    parts.append(packer.flush())
    return b"".join(parts)


def _event(delta: dict[str, Any]) -> bytes:
    chunk = {**_CHUNK, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def _start(send: Any, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _drain(receive: Any) -> None:
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return
        more = message.get("more_body", False)


async def _keepalives(receive: Any, send: Any) -> None:
    for piece in (_event({"role": "assistant"}), _event({"content": "Hel"}),
                  _event({"content": "lo"})):
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    gone = asyncio.ensure_future(receive())
    try:
        for _ in range(600):  # 30 s at most
            await send({"type": "http.response.body", "body": b": keep-alive\n\n",
                        "more_body": True})
            done, _ = await asyncio.wait({gone}, timeout=0.05)
            if done:
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except OSError:
        return
    finally:
        gone.cancel()


#: Valid JSON, wrong shape: each must end the stream as a ProtocolError naming the event.
SHAPES: dict[str, Any] = {
    "choices-string": {**_CHUNK, "choices": "oops"},
    "choice-number": {**_CHUNK, "choices": [7]},
    "delta-list": {**_CHUNK, "choices": [{"index": 0, "delta": ["x"]}]},
    "content-number": {**_CHUNK, "choices": [{"index": 0, "delta": {"content": 42}}]},
    "finish-number": {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": 1}]},
    "tool-calls-string": {**_CHUNK, "choices": [{"index": 0, "delta": {"tool_calls": "f"}}]},
    "tool-name-number": {
        **_CHUNK,
        "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"name": 1}}]}}],
    },
    "usage-string": {**_CHUNK, "choices": [], "usage": "lots"},
}


async def _shaped(send: Any, bad: Any, after_done: bool = False) -> None:
    pieces = [_event({"content": "Hel"}), _event({"content": "lo"})]
    if after_done:
        finish = {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        pieces += [b"data: " + json.dumps(finish).encode() + b"\n\n", b"data: [DONE]\n\n",
                   _event({"content": " and more"}), b"data: [DONE]\n\n"]
    else:
        pieces += [b"data: " + json.dumps(bad).encode() + b"\n\n", b"data: [DONE]\n\n"]
    for piece in pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


THINK_2507 = ["plan a ", "reply</th", "ink>", "Hi there"]


async def _think_2507(receive: Any, send: Any) -> None:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    stream = json.loads(body or b"{}").get("stream", False)
    if not stream:
        reply = {**_CHUNK, "object": "chat.completion", "choices": [{
            "index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "".join(THINK_2507)},
        }]}
        await _start(send, 200, [(b"content-type", b"application/json")])
        await send({"type": "http.response.body", "body": json.dumps(reply).encode()})
        return
    await _start(send, 200, [(b"content-type", b"text/event-stream")])
    finish = {**_CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    pieces = [_event({"content": piece}) for piece in THINK_2507]
    pieces += [b"data: " + json.dumps(finish).encode() + b"\n\n", b"data: [DONE]\n\n"]
    for piece in pieces:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


_MD6 = 'Digest realm="r", nonce="n1", qop="auth", algorithm=MD6'
_SHA256 = 'Digest realm="r", nonce="n2", qop="auth", algorithm=SHA-256'


async def _digest(scope: dict[str, Any], send: Any, kind: str) -> None:
    """``/digest/unknown`` offers only MD6; ``/digest/fallback`` offers MD6, then SHA-256.

    Any Digest answer is accepted and echoed (this server checks the client's choice of
    challenge, not its hashing: the mock's httpbin digest routes verify that).
    """
    answer = dict(scope["headers"]).get(b"authorization", b"")
    if answer.startswith(b"Digest "):
        await _start(send, 200, [(b"content-type", b"text/plain")])
        await send({"type": "http.response.body", "body": answer})
        return
    challenges = [_MD6] if kind == "unknown" else [_MD6, _SHA256]
    headers = [(b"www-authenticate", c.encode()) for c in challenges]
    await _start(send, 401, [*headers, (b"content-length", b"0")])
    await send({"type": "http.response.body", "body": b""})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/think-2507/v1/chat/completions":
        await _think_2507(receive, send)
        return
    await _drain(receive)
    if path.startswith("/bomb/"):
        encoding = path.rsplit("/", 1)[1]
        body = bomb(encoding)
        await _start(send, 200, [(b"content-type", b"application/octet-stream"),
                                 (b"content-encoding", encoding.encode()),
                                 (b"content-length", str(len(body)).encode())])
        await send({"type": "http.response.body", "body": body})
    elif path.startswith("/digest/"):
        await _digest(scope, send, path.rsplit("/", 1)[1])
    elif path.startswith("/shape/") and path.endswith("/v1/chat/completions"):
        await _start(send, 200, [(b"content-type", b"text/event-stream")])
        await _shaped(send, SHAPES[path.split("/")[2]])
    elif path == "/after-done/v1/chat/completions":
        await _start(send, 200, [(b"content-type", b"text/event-stream")])
        await _shaped(send, None, after_done=True)
    elif path == "/v1/chat/completions":
        await _start(send, 200, [(b"content-type", b"text/event-stream")])
        await _keepalives(receive, send)
    else:
        await _start(send, 404, [(b"content-type", b"text/plain")])
        await send({"type": "http.response.body", "body": b"not here"})
